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

## A project
since = since { $at }
project-facts = About the project
client = Client
expert = Expert
industry = Industry
skills = Skills
created = Received
next-steps = Next step
offer-to = Offer to an expert
choose-expert = — choose an expert —
match-score = fit { $score }
no-candidates = No vetted expert with free capacity fits this project.
reason-required = Reason (required)
reason-optional = Reason (optional)
required-documents = Required documents
status = Status
decided = Decision
value = Value for the client
roi-expected = Expected return (TS-ROI)
roi-realised = Realised return
no-baseline = No baseline recorded yet.
baseline-title = Baseline (step 6)
hours-before = Hours a month today
hours-before-hint = How many hours a month the client spends on the process today.
hours-after = Hours a month afterwards
hours-after-hint = How many hours remain once the expert's work is done.
hourly-value = Value of the client's hour
hourly-value-hint = What one hour of the client's work is worth.
horizon = Horizon (months)
horizon-hint = Over how many months the saving counts.
price = Price agreed with the client
price-hint = The project's price.
save-baseline = Save the baseline
outcome-title = Outcome (step 11)
hours-saved = Hours saved a month
hours-saved-hint = How many hours a month the client actually saves.
cost = Actual cost
cost-hint = What the project cost the client.
save-outcome = Save the outcome
trail = History
refused-forbidden = You may not take the step “{ $action }” in this project.
refused-not-allowed = A project in “{ $state }” does not allow “{ $action }”.
refused-gate = The step's condition does not hold: { $reason }
refused-conflict = Not saved: { $reason }
error-reason = Give a reason (up to 2000 characters).
error-expert = Choose an expert from the list.
error-hours = Enter hours a month (0 to 744).
error-hours-after = Hours afterwards cannot exceed hours today: the project must save time.
error-horizon = Enter a number of months from 1 to { $max }.
error-amount = Enter an amount above zero.
action-start_matching = Start matching
action-offer = Offer
action-withdraw_offer = Withdraw the offer
action-accept = Accept the project
action-decline = Decline the offer
action-start_credentialing = Ask the client for documents
action-activate = Start the work
action-block = Block
action-unblock = Unblock
action-complete = Complete
action-archive = Archive
action-cancel = Cancel the project
doc-status-missing = missing
doc-status-queued = queued for verification
doc-status-approved = approved
doc-status-rejected = rejected
doc-status-review = awaiting a decision
doc-status-expired = expired
upload-title = Upload a document
upload-hint = PDF, PNG, JPEG, text or Markdown, up to { $mb } MB. The agent checks it as soon as it arrives.
upload-submit = Upload
uploaded-notice = The document “{ $type }” was received; the agent is checking it now. Reload the page to see the result.
error-upload-too-large = The file is too large: { $mb } MB at most.
error-upload-kind = This kind of file is not accepted: send a PDF, PNG, JPEG, text or Markdown file.
error-upload-doc-type = Choose one of the required documents.
error-upload-quota = There is no room for more documents: { $reason }
error-upload-forbidden = Experts upload their own credentials, not the client's.
error-upload-closed = The project has ended and takes no documents.
error-upload-malformed = The upload failed: choose a file and try again.
uploads = Uploaded files

## Intake (step 1)
nav-intake = New intake
intake-title = A client's new request
intake-help = The consultation form: it creates the client's contact (or finds it by e-mail) and the project, in intake.
intake-errors = Correct the marked fields; nothing was saved.
intake-client = Client
intake-person = Contact person
phone = Phone
intake-company = Company (legal name)
intake-tax-id = Tax id (NIP)
intake-need = What the client needs
intake-what = What to automate
intake-what-hint = A short project title, e.g. “Shop invoices into the accounts”.
intake-process = How the process runs today
intake-process-hint = Steps, tools, who does it; the expert reads this as the brief.
intake-skills-hint = Comma-separated, e.g. “excel, automation”.
intake-industry-hint = E.g. “retail”, “services”.
intake-hours-hint = Hours a month the process takes today; it goes into the baseline.
intake-submit = Save the intake
error-email-expert = This address belongs to an expert, not a client.
error-phone = Enter a phone number (digits, spaces, +, -).
error-tax-id = Enter a valid tax id (NIP).
error-short-text = Enter text of up to 200 characters.
error-spec = Describe the process (this field cannot be empty).
error-tags = Enter short names separated by commas (up to 64 characters each).

## Board
nav-board = Board
board-title = Project board
filters = Filters
all = — all —
filter = Filter
board-count = { $count ->
    [one] { $count } project.
   *[other] { $count } projects.
}
board-help = Drag a card to another column to open that step on the project's page.
board-refused = A project in “%from%” cannot move to “%to%”; the card stays where it was.
days-in-state = { $days ->
    [one] { $days } day in this state
   *[other] { $days } days in this state
}
documents-missing = { $count ->
    [one] { $count } document missing
   *[other] { $count } documents missing
}

## Helpdesk
helpdesk = Helpdesk
no-tickets = No tickets yet.
ticket-open = open
ticket-closed = closed
reply = Reply
send = Send
close-ticket = Close the ticket
reopen-ticket = Reopen
new-ticket = A new ticket for the team
subject-line = Subject
message = Message
open-ticket = Send the ticket
helpdesk-forbidden = The helpdesk is for the client, the expert once they accepted, and the agency's staff.
helpdesk-closed = The project is archived; its helpdesk is read-only.
error-message = Write a message (up to 20,000 characters).
upload-progress = Upload progress

## Deliveries
nav-deliveries = Deliveries
deliveries-title = Failed deliveries to the tools
deliveries-help = Changes a connector could not deliver despite its retries. Nothing is lost: once the cause is fixed, try again.
deliveries-none = Everything is delivered: no delivery has failed.
open-deliveries = Show the failures
project-deliveries = Deliveries to the tools
effect = Change
attempts = Attempts
last-error = The tool's last answer
open-project = Project
retry = Retry
outbox-pending = pending
outbox-delivering = delivering
outbox-delivered = delivered
outbox-failed = failed
review-shortcuts = Keyboard shortcuts: j and k — next and previous document, a — approve, r — reject, c — comment.

## Contacts
nav-contacts = Contacts
contacts-title = Clients and experts
search = Search
search-hint = Name, e-mail, company or tax id.
kind = Kind
no-contacts = Nothing matches the search.
vetting = Expert vetting
vetting-applicant = applicant
vetting-vetting = being vetted
vetting-vetted = vetted
vetting-suspended = suspended
vetting-action-start_vetting = Start vetting
vetting-action-approve = Approve the expert
vetting-action-reject = Reject the applicant
vetting-action-suspend = Suspend
vetting-action-reinstate = Reinstate
capacity = Load
capacity-load = { $load } of { $capacity } projects
hourly-rate = Hourly rate
credentials = The expert's credentials
no-credentials = The expert has not uploaded any credentials yet.
projects-of-contact = Projects
no-projects-contact = No projects.

## An expert's credentials
nav-credentials = My credentials
credentials-title = My credentials
credentials-help = Professional certificate, identity confirmation, liability insurance and the agreement with the agency. The agent checks each one; once all are approved you are a vetted expert.
no-credentials-own = You have not uploaded any credentials yet.
credential-professional_certificate = Professional certificate
credential-identity_confirmation = Identity confirmation
credential-liability_insurance = Liability insurance
credential-expert_agreement = Agreement with the agency
matches = Matching experts
match-fit = Fit
skills-matched = Skills they have
skills-missing = Missing
rating = Rating
yes = yes
no = no
tasks = Tasks
no-tasks = No tasks.
task-todo = to do
task-in_progress = in progress
task-done = done
task-status = Task status
task-move = Change
tracker-forbidden = Tasks are for the team, and for the expert while the project is active and they have access.
tracker-closed = The project is not active; its tasks cannot change.
