"""Every sentence a user can read from the states, the services and the JSON API, in one place.

Each message is a constant, or a constant with named `{placeholders}` that one small
function below formats (the only place it is formatted): no sentence is put together
from pieces elsewhere, and one that depends on a count (`code_rejected(1)`: "1 attempt
left") is one function taking the count, with a whole sentence for each form. A
translation replaces these constants (`catalogue()` lists them) and, where a language
counts differently, the choice inside those functions.

Translations: each message is also the msgid of the gettext catalogues
(`plivo_otp_app/locale/`, read by `translations.py`). The functions below word their
sentence in the language of the event or request being handled (`current_language()`),
counts by that language's plural rules and numbers as it writes them; a constant is
worded where it is shown, by `say(MESSAGE)` (errors' `user_message()`, the states'
assignments, the API's error bodies). Comparing with a constant is comparing English.

`errors.py` gives each typed error its words from here (`OtpError.user_message()`); the
states, the services (phone, password and account rules, the SMS notice) and the JSON
API (`api.py`, `auth_api.py`, `jsonhttp.py`) take theirs from here too. A test keeps
sentence literals out of every other module.

Not here: the static labels, headings and hints of `components/` and `pages/`
("Send code", "Your account", ...), compiled into the page in every language by
`i18n.t()`. Not here on purpose: the sandbox's SMS texts
and errors, which imitate Plivo's own; log events and `ConfigError` texts, which are
for the operator, not the user.
"""

from __future__ import annotations

import math
import re

from .translations import number, translate, translate_plural


def say(message: str) -> str:
    """`message` (one of this module's constants) in the current language."""
    return translate(message)


# What the pages say when a step worked.

SIGNED_IN = "Signed in."
SIGNED_IN_WITH_BACKUP_CODE = "Signed in with a backup code."
SIGNED_UP = "Phone number verified. Your account is ready."
PHONE_VERIFIED = "Your phone number is verified."
TWO_FACTOR_ON = "Two-factor login is on."
TWO_FACTOR_OFF = "Two-factor login is off."
PHONE_CHANGED = "Your phone number was changed. Not you everywhere? Sign out your other sessions below."
BACKUP_CODES_SHOWN = "Save these codes now. Each works once; they will not be shown again."
FACTOR_CONFIRMED = "Confirmed. Now enter your new phone number."
DEVICE_FORGOTTEN = "The device will be asked for a code again."
PASSWORD_RESET = (
    "Your password was changed, and every session of your account was signed out. "
    "Log in with your new password."
)

# What a page says on its own.

NOT_FOUND = "There is no page at this address."

#: What the pages say when a step worked, by what was done (a flow's purpose, mostly).
DONE = {
    "login": SIGNED_IN,
    "backup-code": SIGNED_IN_WITH_BACKUP_CODE,
    "signup": SIGNED_UP,
    "verify-phone": PHONE_VERIFIED,
    "enable-2fa": TWO_FACTOR_ON,
    "disable-2fa": TWO_FACTOR_OFF,
    "change-phone": PHONE_CHANGED,
    "backup-codes": BACKUP_CODES_SHOWN,
    "confirm-phone": FACTOR_CONFIRMED,
    "device-forgotten": DEVICE_FORGOTTEN,
    "reset-password": PASSWORD_RESET,
}

# The code step.

CODE_BY_SMS = "We are texting a {length}-digit code to {phone}."
CODE_BY_VOICE = "We are calling a {length}-digit code to {phone}."
ENTER_CODE_OF_LENGTH = "Enter the {length}-digit code."
#: The provider reported the text undelivered (`OTP_FALLBACK`): offered, or made at once.
SMS_UNDELIVERED_OFFER = "The text message could not be delivered. We can call you with the code instead."
SMS_UNDELIVERED_CALLING = "The text message could not be delivered, so we are calling you with the code."
#: Said once (politely, to a screen reader) when the resend countdown reaches zero.
RESEND_READY = "You can resend the code now."
#: A password reset names no number: whether the account exists, and its number, stay unsaid.
CODE_BY_SMS_TO_ACCOUNT = "If the account has a verified phone, we are texting it a {length}-digit code."
CODE_BY_VOICE_TO_ACCOUNT = (
    "If the account has a verified phone, we are calling it with a {length}-digit code."
)


def code_on_its_way(channel: str, length: int, masked_phone: str) -> str:
    """The code step's first line: how the code comes, and to which number ("": the account's,
    unnamed, for a password reset)."""
    if not masked_phone:
        template = CODE_BY_VOICE_TO_ACCOUNT if channel == "voice" else CODE_BY_SMS_TO_ACCOUNT
        return translate(template).format(length=number(length))
    template = CODE_BY_VOICE if channel == "voice" else CODE_BY_SMS
    return translate(template).format(length=number(length), phone=masked_phone)


def enter_code_of_length(length: int) -> str:
    """A code that is not `length` digits."""
    return translate(ENTER_CODE_OF_LENGTH).format(length=number(length))


# The typed errors' words (`errors.py`).

#: The one sentence for "something on our side is down", on every page and in the API.
OUTAGE = "The service is temporarily unavailable. Please try again in a minute."
#: A failure nothing anticipated (its detail goes to the server log only).
GENERIC = "Something went wrong. Please try again."
PROVIDER_UNAVAILABLE = "We could not reach the SMS service. Please try again in a minute."
PROVIDER_REJECTED = "We cannot send a code to this number. Please use another number."
#: Every refusal of the pumping and cost policy (a high-risk country, a group whose codes go
#: unverified, a spend budget used up): one sentence that does not say which rule tripped.
SEND_REFUSED = "We cannot send a code to this number at the moment. Please try again later."
#: A send held for a challenge (`errors.ChallengeRequired`): the page solves it by itself; an
#: API client gets the challenge beside this sentence.
CHALLENGE_REQUIRED = "Please complete the check, then ask for the code again."
CODE_REJECTED_ONE = "That code is not correct. {count} attempt left."
CODE_REJECTED_MANY = "That code is not correct. {count} attempts left."
CODE_EXPIRED = "This code has expired. Send a new code to continue."
INVALID_CREDENTIALS = "Incorrect username or password."
#: The session is missing, expired or revoked: on the account page, whichever state
#: notices it, and in the API.
SESSION_ENDED = "Your session has ended. Please sign in again."
BROWSER_UNKNOWN = (
    "This browser was not recognised. Allow cookies for this site, reload the page and try again."
)
NOT_THIS_BROWSER = "This step was started in another browser or session. Please start again."
LOGIN_EXPIRED = "Your login timed out. Please enter your password again."
RESET_EXPIRED = "This password reset has expired or was already used. Please start again."
BACKUP_CODE_REJECTED = "That backup code is not valid or was already used."
BACKUP_CODE_START_OVER = (
    "That backup code is not valid or was already used. Please enter your password again."
)
FACTOR_NOT_CONFIRMED = "First confirm with a code sent to your current phone, or a backup code."
#: A sign-up whose phone is verified, but whose name or email was taken meanwhile or before.
NAME_TAKEN = "This username or email is already taken. Choose another, or log in if the account is yours."
#: A login whose code could not be sent: that it was not, `cause` (an error's own words,
#: with its wait), and the way on.
SEND_FAILED_AT_LOGIN = "We could not send you a code. {cause} You can use a backup code."


def code_rejected(attempts_left: int) -> str:
    """A wrong code, with how many tries are left."""
    template = translate_plural(CODE_REJECTED_ONE, CODE_REJECTED_MANY, attempts_left)
    return template.format(count=number(attempts_left))


def send_failed_at_login(cause: str) -> str:
    """The login's code step when its code could not be sent; `cause` is the error's `user_message()`."""
    return translate(SEND_FAILED_AT_LOGIN).format(cause=translate(cause))


# Limits, with the exact wait (`RateLimited`, `TooManyAttempts`; live countdowns).

#: By kind of limit: the sentence while there is a wait left, and once there is none.
WAITS = {
    "send": (
        "Too many codes sent. You can request a new code in {wait}.",
        "You can request a new code now.",
    ),
    "verification-locked": (
        "Too many wrong codes. You can request a new code in {wait}.",
        "Too many wrong codes. You can request a new code now.",
    ),
    "resend-cooldown": ("Please wait {wait} before requesting another code.", ""),
    "verify": ("Too many codes checked. Please wait {wait} and try again.", "You can try again now."),
    "login": ("Too many sign-in attempts. Please wait {wait} and try again.", "You can try again now."),
}
#: The kind of each limit scope (`ratelimit.py`) whose kind is not its own name.
_KINDS = {
    "send-ip": "send",
    "send-number": "send",
    "send-prefix": "send",
    "send-account": "send",
    "verify-ip": "verify",
    "login-ip": "login",
    "login-account": "login",
}
#: A wait, by its largest unit: `45 s`, `4 min 29 s`, `4 min`, `1 h 5 min`, `1 h`.
DURATION_SECONDS = "{seconds} s"
DURATION_MINUTES_SECONDS = "{minutes} min {seconds} s"
DURATION_MINUTES = "{minutes} min"
DURATION_HOURS_MINUTES = "{hours} h {minutes} min"
DURATION_HOURS = "{hours} h"


def wait_message(scope: str, seconds: float) -> str:
    """The sentence for a limit of `scope` with `seconds` left (live countdowns call it each second)."""
    waiting, done = WAITS.get(_KINDS.get(scope, scope), WAITS["verify"])
    left = max(0, math.ceil(seconds))
    return translate(waiting).format(wait=duration(left)) if left > 0 else translate(done)


def duration(seconds: int) -> str:
    """`4 min 29 s`, `45 s`, `1 h 5 min`: exact enough to wait for, short enough for a button."""
    if seconds < 60:
        return translate(DURATION_SECONDS).format(seconds=number(seconds))
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        if rest:
            return translate(DURATION_MINUTES_SECONDS).format(minutes=number(minutes), seconds=number(rest))
        return translate(DURATION_MINUTES).format(minutes=number(minutes))
    hours, minutes = divmod(minutes, 60)
    if minutes:
        return translate(DURATION_HOURS_MINUTES).format(hours=number(hours), minutes=number(minutes))
    return translate(DURATION_HOURS).format(hours=number(hours))


# The operator dashboard (`/admin`).

NOT_ADMIN = "This page is for operators. Ask an operator to give your account the admin role."
DATE_RANGE_INVALID = "Choose a start date before the end date, at most a year apart."
GROUP_INVALID = "That group or duration cannot be used. Reload the page and try again."
UNLOCKED = "The account is unlocked."
GROUP_LIFTED = "The group is exempt from the conversion watch until {until}."
GROUP_EXTENDED = "The group gets no codes until {until}."
FLAG_CLEARED = "The group is watched as usual again."
UNDER = "< {wait}"
OVER = "≥ {wait}"


def verify_time_bucket(seconds: int, over: bool = False) -> str:
    """A bar of the send-to-verify histogram: "< 30 s", "≥ 10 min" (short: six fit a phone)."""
    return translate(OVER if over else UNDER).format(wait=duration(seconds))


# A flow a restart of the server cut, by the page whose flow it was.

INTERRUPTED = "Your session was interrupted (the server restarted). Please request a new code."
INTERRUPTED_LOGIN = "Your session was interrupted (the server restarted). Please enter your password again."
INTERRUPTED_SIGNUP = (
    "Your session was interrupted (the server restarted). "
    "If your account was created, log in to finish verifying your phone; if not, sign up again."
)
_INTERRUPTED_BY_FLOW = {"login": INTERRUPTED_LOGIN, "signup": INTERRUPTED_SIGNUP}


def interrupted_message(purpose: str) -> str:
    """What a page says when the flow this tab had in progress is gone from the server."""
    return translate(_INTERRUPTED_BY_FLOW.get(purpose, INTERRUPTED))


# Phone numbers (`phone.py`).

CHANNEL_UNKNOWN = "Choose text message (sms) or voice call (voice)."
COUNTRY_UNKNOWN = "Choose a country from the list."
COUNTRY_SEARCH_NONE = "No country matches. The list shows every country."
COUNTRY_SEARCH_ONE = "{count} country matches: {name} is chosen."
COUNTRY_SEARCH_MANY = "{count} countries match; {name} is chosen."
PHONE_EMPTY = "Enter your phone number."
PHONE_TOO_LONG = "That phone number is too long."
PHONE_EXTENSION = "Enter the number without an extension."
PHONE_INVALID = "That is not a valid phone number. Check the number and the country."
PHONE_UNPARSABLE = "That doesn't look like a phone number."
COUNTRY_NOT_SERVED = "We cannot send codes to numbers in {country}."
LANDLINE_BY_SMS = (
    "This looks like a landline, which cannot receive text messages. Choose a voice call instead."
)
#: Numbers that cannot get a code, by kind (`phone.py` names the kind of each number type).
KIND_NOT_SERVED = {
    "premium-rate": "Codes cannot be sent to premium-rate numbers. Use a mobile number.",
    "shared-cost": "Codes cannot be sent to shared-cost numbers. Use a mobile number.",
    "toll-free": "Codes cannot be sent to toll-free numbers. Use a mobile number.",
    "pager": "Codes cannot be sent to pager numbers. Use a mobile number.",
    "uan": "Codes cannot be sent to company (UAN) numbers. Use a mobile number.",
    "voicemail": "Codes cannot be sent to voicemail numbers. Use a mobile number.",
    "voip": "Codes cannot be sent to internet (VoIP) numbers. Use a mobile number.",
    "personal": "Codes cannot be sent to personal forwarding numbers. Use a mobile number.",
}
OTHER_KIND_NOT_SERVED = "Codes cannot be sent to this kind of number. Use a mobile number."


def countries_found(count: int, name: str) -> str:
    """The country search's result, read out politely: how many match, and the one chosen."""
    if count == 0:
        return translate(COUNTRY_SEARCH_NONE)
    template = translate_plural(COUNTRY_SEARCH_ONE, COUNTRY_SEARCH_MANY, count)
    return template.format(count=number(count), name=name)


def country_not_served(country: str) -> str:
    """A number of a region codes may not go to; `country` is the region's name."""
    return translate(COUNTRY_NOT_SERVED).format(country=country)


def kind_not_served(kind: str) -> str:
    """A number of a kind that cannot get a code (`KIND_NOT_SERVED`'s keys; any other: this kind)."""
    return translate(KIND_NOT_SERVED.get(kind, OTHER_KIND_NOT_SERVED))


# Passwords (`passwords.py`).

PASSWORD_EMPTY = "Enter a password."
PASSWORD_TOO_SHORT = "Use at least {minimum} characters. A few unrelated words make a strong password."
PASSWORD_TOO_LONG = "Use at most {maximum} characters."
PASSWORD_COMMON = "That password is too common. Choose another."
PASSWORD_PATTERN = "That password is too easy to guess. Choose another."
PASSWORD_HAS_USERNAME = "Don't use your username in your password."
PASSWORD_HAS_EMAIL = "Don't use your email address in your password."
PASSWORD_UNUSABLE = "That password contains characters that cannot be used. Choose another."


def password_too_short(minimum: int) -> str:
    """A password shorter than `minimum` characters."""
    return translate(PASSWORD_TOO_SHORT).format(minimum=number(minimum))


def password_too_long(maximum: int) -> str:
    """A password longer than `maximum` characters."""
    return translate(PASSWORD_TOO_LONG).format(maximum=number(maximum))


# Usernames (`usernames.py`).

USERNAME_RULES = "Choose a username of 3-32 letters, digits, dots, dashes or underscores."
#: Usernames the PRECIS rules (RFC 8265) refuse, by the reason `usernames.py` names.
USERNAME_REFUSED = {
    "spaces": "A username cannot contain spaces.",
    "symbols": (
        "A username cannot contain symbols or emoji. Use letters, digits, dots, dashes or underscores."
    ),
    "compatibility": (
        "Type your username in plain letters and digits, without special forms"
        " such as ligatures, circled or superscript characters."
    ),
    "direction": (
        "A username in a right-to-left script such as Arabic or Hebrew must start with a letter"
        " and cannot mix in letters of a left-to-right script."
    ),
    "invisible": "A username cannot contain invisible or control characters.",
}
OTHER_USERNAME_REFUSED = (
    "Your username contains a character that cannot be used."
    " Use letters, digits, dots, dashes or underscores."
)


def username_refused(reason: str) -> str:
    """A username the PRECIS rules refuse (`USERNAME_REFUSED`'s keys; any other: a character)."""
    return USERNAME_REFUSED.get(reason, OTHER_USERNAME_REFUSED)


# Accounts (the account services).

EMAIL_INVALID = "Enter a valid email address, or leave it empty."
LOGIN_NAME_UNUSABLE = "Enter your username or email address as it was registered."
PHONE_ALREADY_VERIFIED = "Your phone number is already verified."
PHONE_MISSING = "Add a phone number first."
VERIFY_PHONE_FIRST = "Verify your phone number first."
TWO_FACTOR_ALREADY_ON = "Two-factor login is already on."
TWO_FACTOR_ALREADY_OFF = "Two-factor login is already off."
NEW_PHONE_AND_PASSWORD = "Enter your new phone number and your password."
BACKUP_CODE_FORMAT = "Enter a backup code like ABCD-EFGH-JKLM-NPQR."
#: The SMS to the old number after a phone change; `phone` is the new number, masked.
PHONE_CHANGED_NOTICE = (
    "The phone number of your account was changed to {phone}. If this was not you, contact support."
)
#: The SMS to the account's number after a password reset.
PASSWORD_CHANGED_NOTICE = (
    "Your password was changed and every session was signed out. If this was not you, contact support."
)
SIGNED_OUT_ONE = "Signed out {count} other session."
SIGNED_OUT_MANY = "Signed out {count} other sessions."
#: The session list's mark on the session of the browser looking at it.
THIS_BROWSER = "this browser"
#: When a session in the account's list began.
SESSION_SINCE = "since {when}"
#: The first line of the downloaded backup codes file.
BACKUP_CODES_FILE = "Backup codes for {username}. Each signs you in once."
#: A remembered device's name, from its user agent (stored as it was worded then).
DEVICE_LABEL = "{browser} on {system}"
UNKNOWN_BROWSER = "Browser"


#: How long ago the sandbox delivered a message (the outbox's time column).
JUST_NOW = "just now"
MINUTES_AGO = "{count} min ago"
HOURS_AGO = "{count} h ago"


def time_ago(seconds: float, when: str) -> str:
    """ "just now", "4 min ago", "3 h ago"; `when` (the date and time) from a day on."""
    if seconds < 45:
        return translate(JUST_NOW)
    if seconds < 90 * 60:
        return translate(MINUTES_AGO).format(count=number(max(1, int(seconds // 60))))
    if seconds < 24 * 3600:
        return translate(HOURS_AGO).format(count=number(int(seconds // 3600)))
    return when


def phone_changed_notice(masked_phone: str) -> str:
    """The security notice texted to the old number."""
    return translate(PHONE_CHANGED_NOTICE).format(phone=masked_phone)


def signed_out_others(count: int) -> str:
    """After "Sign out other sessions"."""
    return translate_plural(SIGNED_OUT_ONE, SIGNED_OUT_MANY, count).format(count=number(count))


def device_label(browser: str, system: str) -> str:
    """A device's name, such as "Firefox on Linux"; the browser alone when the system is not known."""
    return translate(DEVICE_LABEL).format(browser=browser, system=system) if system else browser


# The JSON API and the cookie routes: requests refused before any service saw them.

BODY_NOT_JSON_TYPE = "Send the body as application/json."
BODY_TOO_LARGE = "The request body is too large."
BODY_CUT_OFF = "The request body was cut off."
BODY_NOT_JSON = "The request body is not valid JSON."
BODY_NOT_OBJECT = "The request body must be a JSON object."
FIELD_REQUIRED = "The field '{name}' is required."
FIELD_NOT_STRING = "The field '{name}' must be a string."
FIELD_INVALID = "The field '{name}' is not valid."
OTP_FIELD_REQUIRED = "The field 'otp' is required, as a string of digits."
OTP_OR_BACKUP_CODE = "Send either 'otp' or 'backup_code'."
METHOD_NOT_ALLOWED = "Use {method} for {path}."
#: `GET /api/health`, for probes and operators: it names what failed (pages say `OUTAGE`).
HEALTH_DATABASE_DOWN = "The database is unavailable."
CROSS_SITE_SIGN_IN = "Cross-site sign-in is refused."
CROSS_SITE_SIGN_OUT = "Cross-site sign-out is refused."
LANDING_NOT_A_LINK = "The '{name}' address is not a valid link."
#: The provider's delivery callbacks (`callbacks.py`); their reader is the provider, or an operator.
CALLBACK_NOT_FORM = "Send the callback as application/x-www-form-urlencoded."
CALLBACK_FORM_INVALID = "The callback body is not a valid form."
CALLBACK_UNSIGNED = "The callback is not signed."
CALLBACK_SIGNATURE_WRONG = "The callback's signature does not match."
CALLBACK_STALE = "The callback is too old, or dated in the future."
CALLBACK_REPLAYED = "This callback was received before."
CALLBACKS_OFF = "This deployment takes no delivery callbacks."


def field_required(name: str) -> str:
    """A JSON body without the required field `name`."""
    return translate(FIELD_REQUIRED).format(name=name)


def field_not_string(name: str) -> str:
    """A JSON body whose field `name` is not a string."""
    return translate(FIELD_NOT_STRING).format(name=name)


def field_invalid(name: str) -> str:
    """A request whose field `name` has a value that cannot be right."""
    return translate(FIELD_INVALID).format(name=name)


def method_not_allowed(method: str, path: str) -> str:
    """A route asked with another method than its own."""
    return translate(METHOD_NOT_ALLOWED).format(method=method, path=path)


def landing_not_a_link(name: str) -> str:
    """A cookie route's return address (query parameter `name`) that is not a URL."""
    return translate(LANDING_NOT_A_LINK).format(name=name)


#: The sentences said in a form by count (gettext's msgid and msgid_plural; Arabic has six forms).
_PLURALS = (
    (CODE_REJECTED_ONE, CODE_REJECTED_MANY),
    (SIGNED_OUT_ONE, SIGNED_OUT_MANY),
    (COUNTRY_SEARCH_ONE, COUNTRY_SEARCH_MANY),
)


def plurals() -> tuple[tuple[str, str], ...]:
    """The (one, many) pairs of the catalogue that a translation words by its plural rules."""
    return _PLURALS


#: The public constants are the messages (private ones are lookups, such as `_KINDS`).
_CONSTANT = re.compile(r"[A-Z][A-Z0-9_]*")


def catalogue() -> list[str]:
    """Every message of this module as written here, placeholders unfilled: what a translation covers."""
    found: list[str] = []

    def collect(value: object) -> None:
        if isinstance(value, str):
            if value and value not in found:
                found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, tuple):
            for item in value:
                collect(item)

    for name, value in globals().items():
        if _CONSTANT.fullmatch(name):
            collect(value)
    return found
