"""Quiet hours: no non-urgent SMS at night in Asia/Baku; such messages wait, never dropped."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

BAKU = ZoneInfo("Asia/Baku")


@dataclass(frozen=True)
class QuietHours:
    """From `start` to `end` local time (the span may cross midnight); start == end: never quiet."""

    start: time
    end: time
    zone: ZoneInfo = BAKU

    @classmethod
    def parse(cls, text: str) -> "QuietHours | None":
        """'22:00-08:00' -> QuietHours; 'off' or '' -> None. ValueError names the problem."""
        if text.strip().lower() in {"", "off", "none"}:
            return None
        try:
            start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
        except ValueError:
            raise ValueError(f"quiet hours {text!r}: expected HH:MM-HH:MM or off") from None
        return cls(start, end)

    def quiet_at(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone).time()
        if self.start < self.end:
            return self.start <= local < self.end
        if self.start > self.end:
            return local >= self.start or local < self.end
        return False

    def ends_after(self, moment: datetime) -> datetime:
        """The first moment after `moment` that is not quiet (the moment itself if it is not)."""
        if not self.quiet_at(moment):
            return moment
        local = moment.astimezone(self.zone)
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end
