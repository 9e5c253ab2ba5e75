"""Print the demo logins (one line per staff user)."""

from django.core.management.base import BaseCommand

from org.demo import demo_logins


class Command(BaseCommand):
    help = "List the staff users with their role (the demo password is printed by make run)."

    def handle(self, *args, **options):
        rows = demo_logins()
        width = max((len(u) for u, _r, _d in rows), default=8)
        for username, role, display in rows:
            self.stdout.write(f"{username:<{width}}  {role}  {display}")
