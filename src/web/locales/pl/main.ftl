# Polish: the agency's and its clients' language, and the fallback.

## Frame
skip-to-content = Przejdź do treści
language = Język
nav-label = Główne menu
nav-dashboard = Pulpit
nav-users = Osoby
nav-my-projects = Moje projekty
sign-out = Wyloguj się
back-home = Wróć na stronę główną

## Sign-in and invitations
sign-in = Zaloguj się
email = E-mail
password = Hasło
sign-in-help = Nie masz konta? Poproś operatora agencji o zaproszenie. Nie pamiętasz hasła? Operator wyśle Ci nowy link.
sign-in-failed = Nieprawidłowy e-mail lub hasło.
sign-in-wait = Zbyt wiele nieudanych prób. Spróbuj ponownie za { $seconds ->
    [one] { $seconds } sekundę
    [few] { $seconds } sekundy
   *[other] { $seconds } sekund
}.
invitation-title = Ustaw hasło
invitation-welcome = Witaj, { $name }! Ustaw hasło, aby korzystać z SSoT-Lite.
new-password = Nowe hasło
confirm-password = Powtórz hasło
set-password = Ustaw hasło i zaloguj się
password-rule = Co najmniej { $chars } znaków; nie może być adresem e-mail.
password-mismatch = Hasła nie są takie same.
invitation-gone-title = Link jest nieważny
invitation-gone-body = Ten link został już użyty, wygasł albo zastąpiono go nowym. Poproś operatora o nowy link.

## Errors
not-found-title = Nie znaleziono strony
not-found-body = Ta strona nie istnieje albo nie masz do niej dostępu.
csrf-title = Formularz wygasł
csrf-body = Nie udało się potwierdzić, że formularz wysłano z tej strony. Wróć, odśwież stronę i spróbuj ponownie.
bad-form-title = Nieprawidłowe dane formularza
bad-form-body = Przesłanych danych nie da się odczytać. Wróć i wypełnij formularz ponownie.
internal-title = Coś poszło nie tak
internal-body = Nie udało się wykonać tej operacji. Nic nie zostało zmienione; spróbuj ponownie za chwilę.

## Dashboard
dashboard-title = Pulpit operatora
review-queue = Do przeglądu
documents-queued = W kolejce do weryfikacji: { $count }
failed-deliveries = Nieudane synchronizacje
value-expected = Wartość oczekiwana
value-realised = Wartość zrealizowana
projects-measured = Projekty z pomiarem bazowym: { $count }
projects-realised = Projekty z wynikiem: { $count }
projects-by-state = Projekty według etapu
waiting-longest = Najdłużej czekające
nothing-waiting = Żaden projekt nie czeka.
project = Projekt
state = Etap
in-state-since = Na etapie od
waiting = Czeka
days-waiting = { $days ->
    [one] { $days } dzień
   *[other] { $days } dni
}
connectors = Integracje
lane = Kanał
tool = Narzędzie
pending = Oczekujące
failed = Nieudane
delivered = Dostarczone
last-delivered = Ostatnia dostawa
expiring-within = Dokumenty wygasające w ciągu { $days } dni
nothing-expiring = Żaden dokument nie wygasa w tym okresie.
document = Dokument
subject = Dotyczy
expires-on = Ważny do
audit-head = Dziennik zdarzeń

## Experts' and clients' home
my-projects-title = Moje projekty
no-projects = Nie masz jeszcze żadnych projektów.
updated = Ostatnia zmiana

## People
users-title = Osoby i dostęp
people = Konta
name = Imię i nazwisko
role = Rola
account = Konto
actions = Działania
account-active = aktywne
account-disabled = wyłączone
account-invited = zaproszone (link ważny do { $until })
account-no-password = bez hasła
enable = Włącz
disable = Wyłącz
new-link = Nowy link
invite-title = Zaproś osobę
invite-help = Osoba dostanie jednorazowy link do ustawienia hasła. Eksperta i klienta powiąż z ich kontaktem.
contact = Kontakt
no-contact = — brak (pracownik agencji) —
contact-hint = Wymagany dla eksperta i klienta; pracownik agencji nie ma kontaktu.
invite-submit = Utwórz konto i link
invitation-link = Link z zaproszeniem
invitation-link-help = Poczta nie jest skonfigurowana: skopiuj ten link i przekaż go osobie { $email }. Działa jeden raz.
copy = Kopiuj
copied = Skopiowano
error-role = Wybierz rolę, którą możesz nadać.
error-contact = Wybierz kontakt: ekspert i klient muszą mieć kontakt, pracownik agencji nie może.
error-email = Podaj poprawny adres e-mail.
error-email-taken = Ten adres e-mail ma już konto.
error-display-name = Podaj imię i nazwisko (do 100 znaków).
error-disable-self = Nie możesz wyłączyć własnego konta.
error-invite-disabled = Najpierw włącz konto, potem wyślij link.

## Roles
role-admin = administrator
role-operator = operator
role-expert = ekspert
role-client = klient

## Lifecycle states
state-intake = Zgłoszenie
state-matching = Dobór eksperta
state-offered = Oferta u eksperta
state-accepted = Przyjęty
state-credentialing = Dokumenty klienta
state-active = W realizacji
state-blocked = Zablokowany
state-completed = Zakończony
state-archived = Zarchiwizowany
state-cancelled = Anulowany

## Connector lanes and document subjects
lane-crm = CRM
lane-tracker = Zadania
lane-board = Tablica
lane-notify = Powiadomienia
subject-project = projekt
subject-expert = ekspert

## Review queue
nav-reviews = Weryfikacja
reviews-title = Dokumenty do weryfikacji
reviews-empty = Kolejka jest pusta: agent nie przekazał żadnego dokumentu do decyzji.
reviews-count = { $count ->
    [one] { $count } dokument czeka na decyzję, od najstarszego.
    [few] { $count } dokumenty czekają na decyzję, od najstarszego.
   *[other] { $count } dokumentów czeka na decyzję, od najstarszego.
}
open-reviews = Otwórz kolejkę weryfikacji
review-approved = Zapisano: dokument zatwierdzony. Skutki (aktywacja projektu, dostęp eksperta, powiadomienie) są w toku.
review-rejected = Zapisano: dokument odrzucony. Klient lub ekspert zostanie powiadomiony.
review-conflict = Decyzji nie zapisano: { $reason }
file = Plik
uploaded = Przesłano
kilobytes = { $kb } KB
agent-said = Agent:
outcome-approved = zatwierdzić
outcome-rejected = odrzucić
outcome-review = przekazać do decyzji człowieka
protocol = protokół
model = model
flags = Uwaga
requirements = Wymagania protokołu
requirement = Wymaganie
verdict = Ocena
evidence = Dowód w dokumencie
verdict-met = spełnione
verdict-not-met = niespełnione
verdict-unclear = niejasne
source-rule = reguła
source-model = model językowy
source-none = nikt nie rozstrzygnął
page-n = strona { $page }
not-found-in-text = nie ma tego w tekście
no-report = Brak raportu agenta.
extracted-text = { $pages ->
    [one] Tekst odczytany z dokumentu ({ $pages } strona)
    [few] Tekst odczytany z dokumentu ({ $pages } strony)
   *[other] Tekst odczytany z dokumentu ({ $pages } stron)
}
decision = Decyzja
approve = Zatwierdź
reject = Odrzuć
valid-until = Ważny do (przy zatwierdzeniu)
valid-until-hint = Ostatni dzień ważności odczytany z dokumentu; od niego liczy się ostrzeżenie o wygaśnięciu.
comment = Komentarz
decide = Zapisz decyzję
error-decision = Wybierz: zatwierdź albo odrzuć.
error-expiry-passed = Ta data już minęła: dokumentu, który wygasł, nie można zatwierdzić.
error-expiry-reject = Datę ważności podaje się tylko przy zatwierdzeniu.
error-date = Podaj datę w formacie RRRR-MM-DD.
error-comment = Komentarz może mieć najwyżej { $max } znaków.

## A project
since = od { $at }
project-facts = O projekcie
client = Klient
expert = Ekspert
industry = Branża
skills = Umiejętności
created = Zgłoszony
next-steps = Następny krok
offer-to = Zaproponuj ekspertowi
choose-expert = — wybierz eksperta —
match-score = dopasowanie { $score }
no-candidates = Żaden zweryfikowany ekspert z wolnymi mocami nie pasuje do projektu.
reason-required = Powód (wymagany)
reason-optional = Powód (opcjonalnie)
required-documents = Wymagane dokumenty
status = Stan
decided = Decyzja
value = Wartość dla klienta
roi-expected = Oczekiwany zwrot (TS-ROI)
roi-realised = Zrealizowany zwrot
no-baseline = Nie zapisano jeszcze pomiaru bazowego.
baseline-title = Pomiar bazowy (krok 6)
hours-before = Godziny miesięcznie dziś
hours-before-hint = Ile godzin w miesiącu klient poświęca dziś na ten proces.
hours-after = Godziny miesięcznie po wdrożeniu
hours-after-hint = Ile godzin zostanie po pracy eksperta.
hourly-value = Wartość godziny klienta
hourly-value-hint = Ile jest warta jedna godzina pracy klienta.
horizon = Okres liczenia (miesiące)
horizon-hint = Przez ile miesięcy liczy się oszczędność.
price = Cena uzgodniona z klientem
price-hint = Cena projektu.
save-baseline = Zapisz pomiar bazowy
outcome-title = Wynik (krok 11)
hours-saved = Zaoszczędzone godziny miesięcznie
hours-saved-hint = Ile godzin miesięcznie klient rzeczywiście oszczędza.
cost = Rzeczywisty koszt
cost-hint = Ile projekt kosztował klienta.
save-outcome = Zapisz wynik
trail = Historia
refused-forbidden = Nie możesz wykonać kroku „{ $action }” w tym projekcie.
refused-not-allowed = Projekt na etapie „{ $state }” nie pozwala na krok „{ $action }”.
refused-gate = Warunek kroku nie jest spełniony: { $reason }
refused-conflict = Nie zapisano: { $reason }
error-reason = Podaj powód (do 2000 znaków).
error-expert = Wybierz eksperta z listy.
error-hours = Podaj liczbę godzin w miesiącu (od 0 do 744).
error-hours-after = Godzin po wdrożeniu nie może być więcej niż dziś: projekt ma oszczędzać czas.
error-horizon = Podaj liczbę miesięcy od 1 do { $max }.
error-amount = Podaj kwotę większą od zera.
action-start_matching = Rozpocznij dobór eksperta
action-offer = Zaproponuj
action-withdraw_offer = Wycofaj ofertę
action-accept = Przyjmij projekt
action-decline = Odrzuć ofertę
action-start_credentialing = Poproś klienta o dokumenty
action-activate = Rozpocznij realizację
action-block = Zablokuj
action-unblock = Odblokuj
action-complete = Zakończ
action-archive = Zarchiwizuj
action-cancel = Anuluj projekt
doc-status-missing = brak
doc-status-queued = w kolejce do weryfikacji
doc-status-approved = zatwierdzony
doc-status-rejected = odrzucony
doc-status-review = czeka na decyzję
doc-status-expired = wygasł
upload-title = Prześlij dokument
upload-hint = PDF, PNG, JPEG, tekst lub Markdown, do { $mb } MB. Agent sprawdzi go zaraz po przesłaniu.
upload-submit = Prześlij
uploaded-notice = Dokument „{ $type }” został przyjęty; agent właśnie go sprawdza. Odśwież stronę, aby zobaczyć wynik.
error-upload-too-large = Plik jest za duży: najwyżej { $mb } MB.
error-upload-kind = Tego rodzaju pliku nie przyjmujemy: prześlij PDF, PNG, JPEG, tekst lub Markdown.
error-upload-doc-type = Wybierz jeden z wymaganych dokumentów.
error-upload-quota = Nie ma już miejsca na dokumenty: { $reason }
error-upload-forbidden = Ekspert przesyła własne dokumenty, nie dokumenty klienta.
error-upload-closed = Projekt jest zakończony i nie przyjmuje dokumentów.
error-upload-malformed = Przesyłanie się nie powiodło: wybierz plik i spróbuj ponownie.
uploads = Przesłane pliki

## Intake (step 1)
nav-intake = Nowe zgłoszenie
intake-title = Nowe zgłoszenie klienta
intake-help = Formularz konsultacji: utworzy kontakt klienta (albo znajdzie go po e-mailu) i projekt na etapie zgłoszenia.
intake-errors = Popraw zaznaczone pola; nic nie zostało zapisane.
intake-client = Klient
intake-person = Osoba kontaktowa
phone = Telefon
intake-company = Firma (nazwa prawna)
intake-tax-id = NIP
intake-need = Czego klient potrzebuje
intake-what = Co zautomatyzować
intake-what-hint = Krótki tytuł projektu, np. „Faktury ze sklepu do księgowości”.
intake-process = Jak ten proces wygląda dziś
intake-process-hint = Kroki, narzędzia, kto to robi; ekspert przeczyta to jako opis zadania.
intake-skills-hint = Oddzielone przecinkami, np. „excel, automatyzacja”.
intake-industry-hint = Np. „handel”, „usługi”.
intake-hours-hint = Ile godzin w miesiącu proces zajmuje dziś; trafi do pomiaru bazowego.
intake-submit = Zapisz zgłoszenie
error-email-expert = Ten adres należy do eksperta, nie do klienta.
error-phone = Podaj numer telefonu (cyfry, spacje, +, -).
error-tax-id = Podaj poprawny NIP.
error-short-text = Podaj tekst do 200 znaków.
error-spec = Opisz proces (pole nie może być puste).
error-tags = Podaj krótkie nazwy oddzielone przecinkami (do 64 znaków każda).

## Board
nav-board = Tablica
board-title = Tablica projektów
filters = Filtry
all = — wszyscy —
filter = Filtruj
board-count = { $count ->
    [one] { $count } projekt.
    [few] { $count } projekty.
   *[other] { $count } projektów.
}
board-help = Przeciągnij kartę do innej kolumny, aby otworzyć ten krok na stronie projektu.
board-refused = Projekt z etapu „%from%” nie może przejść do „%to%”; karta zostaje na miejscu.
days-in-state = { $days ->
    [one] { $days } dzień na etapie
   *[other] { $days } dni na etapie
}
documents-missing = { $count ->
    [one] brakuje { $count } dokumentu
   *[other] brakuje { $count } dokumentów
}

## Helpdesk
helpdesk = Pomoc (zgłoszenia)
no-tickets = Nie ma jeszcze żadnych zgłoszeń.
ticket-open = otwarte
ticket-closed = zamknięte
reply = Odpowiedź
send = Wyślij
close-ticket = Zamknij zgłoszenie
reopen-ticket = Otwórz ponownie
new-ticket = Nowe zgłoszenie do zespołu
subject-line = Temat
message = Wiadomość
open-ticket = Wyślij zgłoszenie
helpdesk-forbidden = Pomoc jest dla klienta, eksperta po przyjęciu projektu i zespołu agencji.
helpdesk-closed = Projekt jest zarchiwizowany; zgłoszenia można tylko czytać.
error-message = Napisz wiadomość (do 20 000 znaków).
upload-progress = Postęp przesyłania

## Deliveries
nav-deliveries = Synchronizacja
deliveries-title = Nieudane synchronizacje z narzędziami
deliveries-help = Zmiany, których integracja nie dostarczyła mimo ponowień. Nic nie przepada: po usunięciu przyczyny spróbuj ponownie.
deliveries-none = Wszystko dostarczone: żadna synchronizacja nie zakończyła się błędem.
open-deliveries = Pokaż nieudane
project-deliveries = Synchronizacja z narzędziami
effect = Zmiana
attempts = Próby
last-error = Ostatnia odpowiedź narzędzia
open-project = Projekt
retry = Ponów
outbox-pending = w kolejce
outbox-delivering = w trakcie
outbox-delivered = dostarczone
outbox-failed = nieudane
review-shortcuts = Skróty klawiszowe: j i k — następny i poprzedni dokument, a — zatwierdź, r — odrzuć, c — komentarz.

## Contacts
nav-contacts = Kontakty
contacts-title = Klienci i eksperci
search = Szukaj
search-hint = Imię i nazwisko, e-mail, firma lub NIP.
kind = Rodzaj
no-contacts = Nic nie pasuje do wyszukiwania.
vetting = Weryfikacja eksperta
vetting-applicant = kandydat
vetting-vetting = w weryfikacji
vetting-vetted = zweryfikowany
vetting-suspended = zawieszony
vetting-action-start_vetting = Rozpocznij weryfikację
vetting-action-approve = Zatwierdź eksperta
vetting-action-reject = Odrzuć kandydata
vetting-action-suspend = Zawieś
vetting-action-reinstate = Przywróć
capacity = Obłożenie
capacity-load = { $load } z { $capacity } projektów
hourly-rate = Stawka godzinowa
credentials = Dokumenty eksperta
no-credentials = Ekspert nie przesłał jeszcze dokumentów.
projects-of-contact = Projekty
no-projects-contact = Brak projektów.

## An expert's credentials
nav-credentials = Moje dokumenty
credentials-title = Moje dokumenty eksperta
credentials-help = Certyfikat zawodowy, potwierdzenie tożsamości, ubezpieczenie OC i umowa z agencją. Agent sprawdza każdy dokument; po zatwierdzeniu wszystkich jesteś zweryfikowanym ekspertem.
no-credentials-own = Nie przesłałeś jeszcze żadnego dokumentu.
credential-professional_certificate = Certyfikat zawodowy
credential-identity_confirmation = Potwierdzenie tożsamości
credential-liability_insurance = Ubezpieczenie OC
credential-expert_agreement = Umowa z agencją
matches = Dopasowani eksperci
match-fit = Dopasowanie
skills-matched = Ma umiejętności
skills-missing = Brakuje
rating = Ocena
yes = tak
no = nie
tasks = Zadania
no-tasks = Brak zadań.
task-todo = do zrobienia
task-in_progress = w toku
task-done = zrobione
task-status = Stan zadania
task-move = Zmień
tracker-forbidden = Zadania są dla zespołu i dla eksperta, gdy projekt jest w realizacji, a on ma dostęp.
tracker-closed = Projekt nie jest w realizacji; zadań nie można zmieniać.
