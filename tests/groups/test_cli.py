"""create-user: a thin shell over services.create_user that saves nothing when it refuses."""

from sqlalchemy import func, select

from groups import services
from groups.extensions import db
from groups.models import AuditEvent, Role, User

GOOD_PASSWORD = "a long enough password"


def _create_user(
    runner, *args, password=GOOD_PASSWORD, email="new@example.org", role="facilitator"
):
    return runner.invoke(
        args=["create-user", "--email", email, "--name", "Nia New", "--role", role, *args],
        input=password + "\n",
    )


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_create_user_from_stdin(runner):
    result = _create_user(runner, "--password-stdin")

    assert result.exit_code == 0, result.output
    assert "Created facilitator account new@example.org" in result.output
    assert GOOD_PASSWORD not in result.output
    user = db.session.scalar(select(User).where(User.email == "new@example.org"))
    assert user.display_name == "Nia New"
    assert user.role == Role.FACILITATOR
    assert services.authenticate("new@example.org", GOOD_PASSWORD).id == user.id


def test_create_user_with_hidden_prompt_and_confirmation(runner):
    result = runner.invoke(
        args=["create-user", "--email", "Boss@Example.org", "--name", "Bo", "--role", "admin"],
        input=f"{GOOD_PASSWORD}\n{GOOD_PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output
    # The prompt hides what is typed: the password is never echoed back.
    assert GOOD_PASSWORD not in result.output
    user = db.session.scalar(select(User).where(User.email == "boss@example.org"))
    assert user.role == Role.ADMIN
    assert services.authenticate("boss@example.org", GOOD_PASSWORD).id == user.id


def test_create_user_prompt_mismatch_saves_nothing(runner):
    result = runner.invoke(
        args=["create-user", "--email", "x@example.org", "--name", "X", "--role", "admin"],
        input=f"{GOOD_PASSWORD}\nsomething else entirely\n",
    )

    assert result.exit_code == 1
    assert _count(User) == 0


def test_create_user_refuses_a_duplicate_email(runner, facilitator):
    result = _create_user(runner, "--password-stdin", email="FACILITATOR@example.org ")

    assert result.exit_code == 1
    assert "email: An account with this email exists already." in result.stderr
    assert _count(User) == 1
    assert db.session.scalar(select(User.display_name)) == "Fran Facilitator"


def test_create_user_refuses_an_unknown_role(runner):
    result = _create_user(runner, "--password-stdin", role="superuser")

    assert result.exit_code == 1
    assert "role: One of: admin, coordinator, facilitator." in result.stderr
    assert _count(User) == 0
    assert _count(AuditEvent) == 0


def test_create_user_refuses_a_short_password(runner):
    result = _create_user(runner, "--password-stdin", password="short")

    assert result.exit_code == 1
    assert "password: At least 10 characters." in result.stderr
    assert _count(User) == 0
    assert _count(AuditEvent) == 0


def test_create_user_prints_every_problem_at_once(runner):
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "nope",
            "--name",
            " ",
            "--role",
            "boss",
            "--password-stdin",
        ],
        input="short\n",
    )

    assert result.exit_code == 1
    for line in (
        "email: Not an email address.",
        "name: Required.",
        "password: At least 10 characters.",
        "role: One of: admin, coordinator, facilitator.",
    ):
        assert line in result.stderr
    assert _count(User) == 0
