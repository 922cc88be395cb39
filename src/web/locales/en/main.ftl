# English.

## Frame
skip-to-content = Skip to content
language = Language
nav-label = Main menu
nav-dashboard = Dashboard
nav-users = People
nav-my-projects = My projects
sign-out = Sign out
back-home = Back to the start page

## Sign-in and invitations
sign-in = Sign in
email = E-mail
password = Password
sign-in-help = No account yet? Ask an agency operator for an invitation. Forgot your password? An operator will send you a new link.
sign-in-failed = Wrong e-mail or password.
sign-in-wait = Too many failed attempts. Try again in { $seconds ->
    [one] { $seconds } second
   *[other] { $seconds } seconds
}.
invitation-title = Set your password
invitation-welcome = Welcome, { $name }! Set a password to use SSoT-Lite.
new-password = New password
confirm-password = Repeat the password
set-password = Set password and sign in
password-rule = At least { $chars } characters; not your e-mail address.
password-mismatch = The passwords differ.
invitation-gone-title = This link no longer works
invitation-gone-body = The link was used already, has expired, or a newer one replaced it. Ask an operator for a new link.

## Errors
not-found-title = Page not found
not-found-body = This page does not exist or you may not see it.
csrf-title = The form has expired
csrf-body = We could not confirm the form was sent from this site. Go back, reload the page and try again.
bad-form-title = The form could not be read
bad-form-body = The data sent could not be read. Go back and fill in the form again.
internal-title = Something went wrong
internal-body = This could not be done. Nothing was changed; please try again in a moment.

## Dashboard
dashboard-title = Operator dashboard
review-queue = To review
documents-queued = Queued for verification: { $count }
failed-deliveries = Failed deliveries
value-expected = Expected value
value-realised = Realised value
projects-measured = Projects with a baseline: { $count }
projects-realised = Projects with an outcome: { $count }
projects-by-state = Projects by state
waiting-longest = Waiting longest
nothing-waiting = No project is waiting.
project = Project
state = State
in-state-since = In this state since
waiting = Waiting
days-waiting = { $days ->
    [one] { $days } day
   *[other] { $days } days
}
connectors = Connectors
lane = Lane
tool = Tool
pending = Pending
failed = Failed
delivered = Delivered
last-delivered = Last delivery
expiring-within = Documents expiring within { $days } days
nothing-expiring = No document expires in this window.
document = Document
subject = Concerns
expires-on = Valid until
audit-head = Audit log

## Experts' and clients' home
my-projects-title = My projects
no-projects = You have no projects yet.
updated = Last change

## People
users-title = People and access
people = Accounts
name = Name
role = Role
account = Account
actions = Actions
account-active = active
account-disabled = disabled
account-invited = invited (link valid until { $until })
account-no-password = no password
enable = Enable
disable = Disable
new-link = New link
invite-title = Invite a person
invite-help = The person gets a one-time link to set their password. Link experts and clients to their contact.
contact = Contact
no-contact = — none (agency staff) —
contact-hint = Required for experts and clients; agency staff have no contact.
invite-submit = Create account and link
invitation-link = Invitation link
invitation-link-help = No mail is configured: copy this link and give it to { $email }. It works once.
copy = Copy
copied = Copied
error-role = Choose a role you may give.
error-contact = Choose a contact: experts and clients need one, agency staff may not have one.
error-email = Enter a valid e-mail address.
error-email-taken = This e-mail address already has an account.
error-display-name = Enter a name (up to 100 characters).
error-disable-self = You cannot disable your own account.
error-invite-disabled = Enable the account first, then send a link.

## Roles
role-admin = admin
role-operator = operator
role-expert = expert
role-client = client

## Lifecycle states
state-intake = Intake
state-matching = Matching
state-offered = Offered to expert
state-accepted = Accepted
state-credentialing = Client documents
state-active = Active
state-blocked = Blocked
state-completed = Completed
state-archived = Archived
state-cancelled = Cancelled

## Connector lanes and document subjects
lane-crm = CRM
lane-tracker = Tracker
lane-board = Board
lane-notify = Notifications
subject-project = project
subject-expert = expert

## Review queue
nav-reviews = Review
reviews-title = Documents to review
reviews-empty = The queue is empty: the agent has sent no document for a decision.
reviews-count = { $count ->
    [one] { $count } document waits for a decision, oldest first.
   *[other] { $count } documents wait for a decision, oldest first.
}
open-reviews = Open the review queue
review-approved = Saved: the document is approved. Its effects (the project's activation, the expert's access, the notice) are under way.
review-rejected = Saved: the document is rejected. The client or expert will be told.
review-conflict = The decision was not saved: { $reason }
file = File
uploaded = Uploaded
kilobytes = { $kb } KB
agent-said = The agent:
outcome-approved = approve
outcome-rejected = reject
outcome-review = hand to a person
protocol = protocol
model = model
flags = Note
requirements = The protocol's requirements
requirement = Requirement
verdict = Verdict
evidence = Evidence in the document
verdict-met = met
verdict-not-met = not met
verdict-unclear = unclear
source-rule = rule
source-model = language model
source-none = nobody decided
page-n = page { $page }
not-found-in-text = not in the text
no-report = The agent left no report.
extracted-text = { $pages ->
    [one] Text read from the document ({ $pages } page)
   *[other] Text read from the document ({ $pages } pages)
}
decision = Decision
approve = Approve
reject = Reject
valid-until = Valid until (with an approval)
valid-until-hint = The last day of validity as the document states it; the expiry warning counts from it.
comment = Comment
decide = Save the decision
error-decision = Choose approve or reject.
error-expiry-passed = This date has passed: an expired document cannot be approved.
error-expiry-reject = An expiry date goes with an approval only.
error-date = Enter a date as YYYY-MM-DD.
error-comment = A comment may have at most { $max } characters.
