"""Working days on China's calendar (Art. 8: a provider answers within one working day).

The State Council's schedule — statutory holidays and the make-up working days (调休)
that come with them — from the `chinese-calendar` package, amended by the city's
override files (local adjustments, and the years the package does not know yet) in
holiday-cn's JSON format (`overrides.py`). A day of a year neither knows is counted on
weekends alone and the answer says it is provisional: never a silent guess.
"""

from workdays.calendar import Deadline, WorkingCalendar, load_calendar
from workdays.overrides import Overrides, read_overrides

__all__ = ["Deadline", "Overrides", "WorkingCalendar", "load_calendar", "read_overrides"]
