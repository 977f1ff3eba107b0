"""Fixtures for the CHATHAM_HOUSE.md §6 cases: one realistic registry and list context."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Protocol

import pytest

from filters.deattribute import (
    ARCHIVE_HEADERS,
    PART_HEADERS,
    ArchiveContext,
    ArchiveForm,
    archive_form,
)
from filters.identities import Registry
from filters.matching import RegistryMatcher
from tests.chatham_house.registry import REGISTRY, make_ctx
from tests.oracle import assert_nothing_leaked, assert_text_clean


@pytest.fixture(scope="session")
def registry() -> Registry:
    return REGISTRY


@pytest.fixture(scope="session")
def matcher() -> RegistryMatcher:
    return RegistryMatcher.compile(REGISTRY)


@pytest.fixture
def ctx() -> ArchiveContext:
    return make_ctx()


ALLOWED_HEADERS = frozenset(name.lower() for name in ARCHIVE_HEADERS)
ALLOWED_PART_HEADERS = frozenset(name.lower() for name in PART_HEADERS)


def reparsed(form: ArchiveForm) -> EmailMessage:
    message = message_from_bytes(form.message, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def assert_decision_8(
    form: ArchiveForm, registry: Registry, matcher: RegistryMatcher, ctx: ArchiveContext
) -> None:
    """The invariant of decision 8, plus the allowlist of decision 1."""
    assert form.message, "the archive form is empty"
    assert_nothing_leaked(form.message, registry)
    assert_text_clean([form.text, form.subject], registry)
    archived = reparsed(form)
    assert {name.lower() for name in archived} <= ALLOWED_HEADERS
    for part in archived.walk():
        if part is not archived:
            assert {name.lower() for name in part} <= ALLOWED_PART_HEADERS
    again = archive_form(archived, matcher, ctx)
    assert again.text == form.text, "scrubbing the archive form again changed its text"
    assert again.subject == form.subject
    assert again.attachments == form.attachments


class Archiver(Protocol):
    def __call__(
        self, message: EmailMessage, ctx: ArchiveContext | None = None, *, held: bool = False
    ) -> ArchiveForm: ...


@pytest.fixture
def archive(registry: Registry, matcher: RegistryMatcher) -> Archiver:
    """Archive a post and check decision 8 on the result; `held` posts may carry a reason."""

    def run(
        message: EmailMessage, ctx: ArchiveContext | None = None, *, held: bool = False
    ) -> ArchiveForm:
        context = ctx or make_ctx()
        form = archive_form(message, matcher, context)
        if held:
            assert form.hold_reason, "the post should have been held"
        else:
            assert form.hold_reason is None, form.hold_reason
        assert_decision_8(form, registry, matcher, context)
        return form

    return run
