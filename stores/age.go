package stores

import (
	"fmt"
	"time"
)

// HumanDuration renders a duration the way operators read ages: "45s",
// "12m", "3h", "4d".
func HumanDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	default:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
}

// RelativeAge renders an RFC 3339 timestamp as an age relative to now, or
// "-" when it is empty or unreadable.
func RelativeAge(ts string, now time.Time) string {
	t, ok := ParseTime(ts)
	if !ok {
		return "-"
	}
	return HumanDuration(now.Sub(t))
}
