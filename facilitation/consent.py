"""Own the consent text a participant reads on their first join of a cycle."""

from __future__ import annotations

from flask_babel import gettext

from groups.i18n import N_
from groups.models import Program

DEFAULT_CONSENT = N_("""\
Hearth is how this group shares answers during sessions. Here is what happens to yours.

Who sees what: your mood and connectedness answers are anonymous. They are stored with no link \
to your name or your phone. The shared screen shows the group's answers only when at least \
{k} people answered, never one person's. Your facilitator sees when you arrive, and any text \
you write before it is shown (without your name).

You can pass: every question and every activity can be skipped, and nobody sees who passed.

Your own trend: your phone keeps a private key so it can show you your own answers over the \
weeks. Nobody else can link them to you. You can delete them from your phone at any time.

How long: raw answers are deleted after {days} days; only group totals are kept.

This room is not monitored for crises. If you are in danger or need urgent help, call your local \
emergency number, or a crisis line such as 988 (US), 116 123 (Samaritans, UK and Ireland) or \
024 (Spain).
""")


def consent_text(program: Program) -> str:
    """The program's own consent text, or Hearth's default in the page's language."""
    if program.consent_text.strip():
        return program.consent_text  # the program's own words, in the language it wrote them
    return gettext(DEFAULT_CONSENT).format(k=program.min_group_size, days=program.retention_days)
