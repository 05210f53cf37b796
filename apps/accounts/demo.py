"""Demo people and teams (seed_demo)."""

from __future__ import annotations

from apps.accounts import services
from apps.accounts.choices import TeamFunction
from apps.accounts.models import Team, User

DEMO_PASSWORD = "signet-demo"  # noqa: S105 - documented demo password, refused unless DEBUG or --force

TEAMS = [
    ("Retail banking", "business", TeamFunction.BUSINESS),
    ("Data science", "data-science", TeamFunction.DATA_SCIENCE),
    ("IT operations", "it-operations", TeamFunction.IT_OPS),
    ("Model risk validation", "model-risk", TeamFunction.RISK_VALIDATION),
    ("Compliance", "compliance", TeamFunction.COMPLIANCE),
    ("Internal audit", "internal-audit", TeamFunction.AUDIT),
]

# username, first name, last name, team slug (None: no team), administrator
USERS = [
    ("business", "Beatrice", "Owens", "business", False),
    ("developer", "Dev", "Patel", "data-science", False),
    ("validator", "Valentina", "Rossi", "model-risk", False),
    ("itops", "Ivan", "Okafor", "it-operations", False),
    ("compliance", "Clara", "Meyer", "compliance", False),
    ("auditor", "Aude", "Laurent", "internal-audit", False),
    ("admin", "Ada", "Ministrator", None, True),
    ("outsider", "Oscar", "Outis", None, False),
]


def seed() -> int:
    """Create the demo teams and one user per role; return how many objects were created."""
    created = 0
    teams = {}
    for name, slug, function in TEAMS:
        team = Team.objects.filter(slug=slug).first()
        if team is None:
            team = services.team_create(actor=None, name=name, slug=slug, function=function)
            created += 1
        teams[slug] = team
    for username, first, last, team_slug, admin in USERS:
        if User.objects.filter(username=username).exists():
            continue
        services.user_create(
            actor=None,
            username=username,
            password=DEMO_PASSWORD,
            email=f"{username}@signet.example",
            first_name=first,
            last_name=last,
            is_superuser=admin,
            teams=[teams[team_slug]] if team_slug else [],
        )
        created += 1
    return created
