package tui

import (
	"image/color"

	"charm.land/lipgloss/v2"

	"statescope/stores"
	"statescope/tui/grid"
)

// Styles is the palette; colours degrade with the terminal's profile.
type Styles struct {
	Plain, Crumb, CrumbSep, Title   lipgloss.Style
	Dim, Bold                       lipgloss.Style
	Error, Warn, OK, Info           lipgloss.Style
	Status, StatusErr               lipgloss.Style
	Key, KeyDisabled, Box, Selected lipgloss.Style
	Added, Removed, Changed         lipgloss.Style
	Grid                            grid.Styles
}

var (
	green  = lipgloss.Color("#3fb950")
	red    = lipgloss.Color("#f85149")
	yellow = lipgloss.Color("#d29922")
	blue   = lipgloss.Color("#58a6ff")
	grey   = lipgloss.Color("#8b949e")
	accent = lipgloss.Color("#bc8cff")
)

func fg(c color.Color) lipgloss.Style { return lipgloss.NewStyle().Foreground(c) }

// DefaultStyles is statescope's palette.
func DefaultStyles() Styles {
	sel := lipgloss.NewStyle().Reverse(true)
	return Styles{
		Crumb:       fg(accent).Bold(true),
		CrumbSep:    fg(grey),
		Title:       lipgloss.NewStyle().Bold(true),
		Dim:         fg(grey),
		Bold:        lipgloss.NewStyle().Bold(true),
		Error:       fg(red).Bold(true),
		Warn:        fg(yellow),
		OK:          fg(green),
		Info:        fg(blue),
		Status:      fg(green),
		StatusErr:   fg(red).Bold(true),
		Key:         fg(accent),
		KeyDisabled: fg(grey).Strikethrough(true),
		Box:         lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(red).Padding(0, 1),
		Selected:    sel,
		Added:       fg(green),
		Removed:     fg(red),
		Changed:     fg(yellow),
		Grid:        grid.Styles{Header: lipgloss.NewStyle().Bold(true).Underline(true), Selected: sel},
	}
}

// StatusStyle colours a lifecycle status. It points into s, so tables
// can cache what they rendered with it.
func (s *Styles) StatusStyle(status string) *lipgloss.Style {
	switch status {
	case stores.StatusActive:
		return &s.OK
	case stores.StatusError:
		return &s.Error
	case stores.StatusProvisioning, stores.StatusDestroying:
		return &s.Warn
	case stores.StatusPlanned:
		return &s.Info
	case stores.StatusDestroyed:
		return &s.Dim
	}
	return &s.Plain
}

// VerdictStyle colours a lock verdict.
func (s *Styles) VerdictStyle(v stores.Verdict) *lipgloss.Style {
	switch v {
	case stores.VerdictOrphaned:
		return &s.Error
	case stores.VerdictStale:
		return &s.Warn
	case stores.VerdictHeld:
		return &s.OK
	}
	return &s.Dim
}
