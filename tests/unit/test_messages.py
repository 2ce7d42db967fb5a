"""Every word a user reads comes from `messages.py`.

Two guards: every typed error says one of the catalogue's sentences, and no other
module of the library holds a sentence of its own (a scan of its source).
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from plivo_otp_app import errors, messages
from plivo_otp_app import services as _services  # noqa: F401 - the services define typed errors too
from plivo_otp_app.config import ConfigError
from plivo_otp_app.errors import OtpError

PACKAGE = Path(messages.__file__).parent

#: Where a sentence may be written in the library other than `messages.py`, and why.
NOT_SCANNED = {
    "messages.py": "the catalogue itself",
    "sandbox": "imitates Plivo's API: its SMS texts and errors are Plivo's words, not ours",
}
#: Calls whose text goes to the operator or a developer, never to a user: log lines
#: (`log.event`, a logger's methods) and exceptions that are not typed errors (a `ConfigError`
#: or any other unexpected exception is answered with `from_unexpected`'s words).
OPERATOR_CALLS = frozenset(
    {"ConfigError", "ValueError", "TypeError", "RuntimeError", "AssertionError"}
    | {"event", "debug", "info", "warning", "exception", "critical"}
)
#: The label functions of `i18n.py`: their text is a catalogue msgid (extracted from these calls by
#: `scripts/translations.py`, its translations checked by `test_translations.py`).
LABEL_CALLS = frozenset({"t", "tn", "t_around"})
#: A sentence: a capital, several words, and a full stop, question or exclamation mark or
#: ellipsis at the end or between sentences. Log events, ids, CSS classes, SQL, settings
#: names and URLs are not.
_SENTENCE = re.compile(r"[A-Z][^\s]*(\s+\S+)+?([.!?…]|[.!?]\s.*)")


def _templates() -> list[str]:
    """The catalogue's sentences (not the bare units of a duration such as `{minutes} min`)."""
    words = re.compile(r"[A-Za-z']{2,}")
    return [t for t in messages.catalogue() if len(words.findall(re.sub(r"{\w+}", "", t))) >= 2]


def _as_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"{\w+}", template)
    return re.compile("(.+)".join(re.escape(part) for part in parts))


def in_catalogue(text: str) -> bool:
    """Whether `text` is one of the catalogue's sentences, its placeholders filled in."""
    return any(_as_pattern(template).fullmatch(text) for template in _templates())


def _all_subclasses(cls: type[OtpError]) -> Iterator[type[OtpError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


#: Sample arguments by parameter name, for every constructor of a typed error.
_SAMPLES: dict[str, list[object]] = {
    "retry_after": [0, 1, 45, 61, 300, 3600, 3900],
    "attempts_left": [0, 1, 2, 4],
    "scope": ["", *messages.WAITS, "send-ip", "send-number", "verify-ip", "login-account", "unknown"],
    "reason": ["a detail for the log"],
    "message": ["a detail for the log"],
}


def _instances(cls: type[OtpError]) -> Iterator[OtpError]:
    """`cls` built with each sample of its constructor's parameters (the rest at their defaults)."""
    own = cls.__init__ is not Exception.__init__  # else it takes a detail for the log, or nothing
    signature = inspect.signature(cls.__init__) if own else None
    parameters = [p for p in signature.parameters.values() if p.name != "self"] if signature else []
    unknown = [p.name for p in parameters if p.name not in _SAMPLES]
    assert not unknown, f"add samples for {cls.__name__}'s parameters {unknown} to _SAMPLES"
    yield cls(*[_SAMPLES[p.name][0] for p in parameters])
    for index, parameter in enumerate(parameters):
        for sample in _SAMPLES[parameter.name][1:]:
            args = [_SAMPLES[p.name][0] for p in parameters]
            args[index] = sample
            yield cls(*args)


#: Typed errors that say what their raiser passed in: the raisers' sentences are
#: `messages.py`'s (the source scan below checks them), not the error class's.
_WORDS_FROM_RAISER = (errors.InvalidInput, errors.InvalidPhone)


def test_every_typed_error_says_a_sentence_of_the_catalogue():
    classes = [OtpError, *_all_subclasses(OtpError)]
    names = {cls.__name__ for cls in classes}
    assert len(classes) >= 19 and "BackupCodeRejected" in names  # every typed error, the services' too
    for cls in classes:
        if issubclass(cls, _WORDS_FROM_RAISER):
            continue
        for error in _instances(cls):
            said = error.user_message()
            assert in_catalogue(said), f"{cls.__name__}{error.args}: {said!r} is not in messages.py"
            assert errors.user_message(error) == said


def test_an_error_that_says_what_it_was_given_says_it_exactly():
    for cls in _WORDS_FROM_RAISER:
        assert cls(messages.PHONE_EMPTY).user_message() == messages.PHONE_EMPTY


def test_the_unexpected_are_told_the_generic_or_the_outage_sentence():
    assert errors.from_unexpected(KeyError("x")).user_message() == messages.GENERIC
    assert errors.from_unexpected(OperationalError("x", {}, Exception())).user_message() == messages.OUTAGE
    assert errors.from_unexpected(ConfigError("x")).user_message() == messages.OUTAGE


@pytest.mark.parametrize(
    ("count", "said"),
    [(0, "That code is not correct. 0 attempts left."), (1, "That code is not correct. 1 attempt left.")],
)
def test_a_count_picks_the_whole_sentence_for_its_number(count, said):
    assert messages.code_rejected(count) == said
    assert errors.CodeRejected(count).user_message() == said


def test_signed_out_counts_sessions_in_whole_sentences():
    assert messages.signed_out_others(1) == "Signed out 1 other session."
    assert messages.signed_out_others(0) == "Signed out 0 other sessions."
    assert messages.signed_out_others(3) == "Signed out 3 other sessions."


def test_the_catalogue_lists_each_message_once_with_named_placeholders():
    catalogue = messages.catalogue()
    assert len(catalogue) == len(set(catalogue))
    assert messages.OUTAGE in catalogue and messages.DONE["login"] in catalogue
    assert messages.KIND_NOT_SERVED["voip"] in catalogue and messages.WAITS["send"][0] in catalogue
    assert "send" not in catalogue  # a limit's kind is a key, not a message
    for template in catalogue:
        assert "{}" not in template, template  # a translator sees what goes where


# The source scan.


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _operator_call(node: ast.Call) -> bool:
    return _call_name(node) in OPERATOR_CALLS | LABEL_CALLS


def _text(node: ast.expr) -> str | None:
    """A string literal's text; an f-string's with `{}` for each value."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def _docstrings(tree: ast.Module) -> set[int]:
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, owners)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


def sentences_in(source: str) -> list[tuple[int, str]]:
    """The sentence literals of a module, outside docstrings and operators' calls."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _operator_call(node):
            skip.update(id(sub) for arg in [*node.args, *node.keywords] for sub in ast.walk(arg))
        if isinstance(node, ast.JoinedStr):
            skip.update(id(value) for value in node.values)  # judged as the whole f-string
    found = []
    for node in ast.walk(tree):
        text = _text(node) if isinstance(node, ast.expr) and id(node) not in skip else None
        if text is not None and _SENTENCE.fullmatch(text.strip()):
            found.append((node.lineno, text))
    return found


def _scanned(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        if path.relative_to(root).parts[0] not in NOT_SCANNED:
            yield path


def sentences_outside_messages(root: Path = PACKAGE) -> list[str]:
    return [
        f"{path.relative_to(root)}:{line}: {text!r}"
        for path in _scanned(root)
        for line, text in sentences_in(path.read_text("utf-8"))
    ]


def test_no_module_but_messages_holds_a_sentence_a_user_reads():
    assert sentences_outside_messages() == []


def bare_labels(source: str) -> list[tuple[int, str]]:
    """Words given as an element's child without `t()`: the same in every language."""
    calls = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and ast.unparse(node.func).startswith("rx.el.")
    ]
    return [
        (call.lineno, arg.value)
        for call in calls
        for arg in call.args
        if isinstance(arg, ast.Constant)
        and isinstance(arg.value, str)
        and re.search(r"[A-Za-z]{2}", arg.value)
    ]


def test_every_label_of_the_components_and_pages_goes_through_t():
    """The header's "Log out" was a bare string: English on an Arabic page."""
    assert [
        f"{path.relative_to(PACKAGE)}:{line}: {text!r}"
        for folder in ("components", "pages")
        for path in sorted((PACKAGE / folder).glob("*.py"))
        for line, text in bare_labels(path.read_text("utf-8"))
    ] == []
    assert bare_labels('rx.el.button("Log out", id="x")') == [(1, "Log out")]  # the scan sees one


def test_the_scan_covers_the_services_states_and_api():
    names = {str(p.relative_to(PACKAGE)) for p in _scanned(PACKAGE)}
    for module in ("errors.py", "phone.py", "passwords.py", "api.py", "auth_api.py", "jsonhttp.py"):
        assert module in names
    assert any(n.startswith("components/") for n in names) and any(n.startswith("pages/") for n in names)
    assert any(n.startswith("state/") for n in names) and any(n.startswith("services/") for n in names)


@pytest.mark.parametrize(
    "line",
    [
        'raise InvalidInput("Enter your phone number.")',
        'self.error = "Your session has ended. Please sign in again."',
        'return f"We are {how} a {length}-digit code to {phone}."',
        'error(403, "Cross-site sign-in is refused.", code="cross_site")',
        'DONE = {"login": "Signed in."}',
        'message = "Too many codes sent. You can request a new code in {wait}."',
        'x = ("The phone number was changed. " "If this was not you, contact support.")',
        'return "Wait… ready?"',
    ],
)
def test_the_scan_finds_a_sentence(line):
    assert len(sentences_in(line)) == 1


@pytest.mark.parametrize(
    "line",
    [
        '"""A docstring. It is for developers."""',
        'log.event("send_requested", phone=masked)',
        'log.event("internal_error", logging.ERROR, error="Something went wrong.")',
        'logging.getLogger("x").debug("Internal error. See above.")',
        'raise ConfigError(f"OTP_PROVIDER must be one of {names}. Got {value!r}.")',
        'raise NotSignedIn("no live session")',
        'db.execute(text("SELECT 1 FROM user"))',
        'rx.el.div(class_name="row spread", id="account-username")',
        'url = f"{scheme}://{host}/api/session/complete?ticket={ticket}"',
        'CHANNELS = ("sms", "voice")',
        'when = s.created_at.strftime("%Y-%m-%d %H:%M UTC")',
        'name = "Firefox"',
        'rx.el.label(t("Send the code by"), html_for="channel")',
        'tn("Remember this device for {count} day", "Remember this device for {count} days", days)',
    ],
)
def test_the_scan_lets_through_what_no_user_reads(line):
    assert sentences_in(line) == []
