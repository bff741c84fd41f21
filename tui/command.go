package tui

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// commandBar is the k9s-style ":" prompt.
type commandBar struct {
	m  *Model
	in input
}

func newCommandBar(m *Model) *commandBar {
	return &commandBar{m: m, in: input{prompt: ":"}}
}

// commands are the words the bar knows, with their aliases.
var commands = map[string][]string{
	"resources": {"res", "resource"},
	"locks":     {"lock"},
	"audit":     {"log"},
	"backups":   {"backup", "trash"},
	"messages":  {"msg"},
	"ctx":       {"context"},
	"fleet":     {"contexts"},
	"check":     {"findings"},
	"help":      {},
	"q":         {"quit", "q!"},
}

func canonical(word string) string {
	for name, aliases := range commands {
		if word == name || slices.Contains(aliases, word) {
			return name
		}
	}
	return ""
}

func (c *commandBar) update(msg tea.KeyPressMsg) tea.Cmd {
	k := c.m.env.keys.Input
	switch {
	case key.Matches(msg, k.Cancel):
		c.m.command = nil
		return nil
	case key.Matches(msg, k.Accept):
		c.m.command = nil
		return c.run(strings.Fields(c.in.Value()))
	case key.Matches(msg, k.Complete):
		c.in.SetValue(c.complete(c.in.Value()))
		return nil
	}
	c.in.Update(msg)
	return nil
}

// complete extends the command word, or the context name after "ctx ",
// to the longest prefix shared by every candidate.
func (c *commandBar) complete(text string) string {
	word, arg, hasArg := strings.Cut(text, " ")
	if !hasArg {
		names := make([]string, 0, len(commands))
		for n := range commands {
			names = append(names, n)
		}
		return completePrefix(word, names)
	}
	if canonical(word) == "ctx" {
		return word + " " + completePrefix(strings.TrimSpace(arg), c.m.env.opts.Contexts)
	}
	return text
}

func completePrefix(prefix string, candidates []string) string {
	var match []string
	for _, c := range candidates {
		if strings.HasPrefix(c, prefix) {
			match = append(match, c)
		}
	}
	if len(match) == 0 {
		return prefix
	}
	common := match[0]
	for _, s := range match[1:] {
		for !strings.HasPrefix(s, common) {
			common = common[:len(common)-1]
		}
	}
	return common
}

func (c *commandBar) run(words []string) tea.Cmd {
	m := c.m
	if len(words) == 0 {
		return nil
	}
	switch canonical(words[0]) {
	case "resources", "locks", "audit", "backups", "check":
		if m.noStore() {
			return nil
		}
	}
	switch canonical(words[0]) {
	case "q":
		return m.quit()
	case "resources":
		return m.replace(newResourcesView(m.env))
	case "locks":
		return m.replace(newLocksView(m.env))
	case "audit":
		return m.push(newAuditView(m.env))
	case "backups":
		return m.push(newStoreBackupsView(m.env))
	case "messages":
		return m.push(newMessagesView(m.env))
	case "help":
		return m.push(newHelpView(m.env, m.top()))
	case "fleet":
		for len(m.stack) > 1 && slices.ContainsFunc(m.stack, isFleet) && !isFleet(m.top()) {
			m.pop() // back to the fleet this context was opened from
		}
		if isFleet(m.top()) {
			return nil
		}
		return m.push(newFleetView(m.env))
	case "check":
		return m.push(newFindingsView(m.env))
	case "ctx":
		if len(words) < 2 {
			if len(m.env.opts.Contexts) == 0 {
				m.setStatus("the config file defines no contexts", true)
				return nil
			}
			return m.push(newContextsView(m.env))
		}
		return m.switchContext(words[1])
	}
	m.setStatus("unknown command :"+words[0]+" (resources, locks, audit, backups, messages, check, fleet, ctx NAME, help, q)", true)
	return nil
}

func (c *commandBar) view() string {
	return c.in.View(c.m.env.styles.Key) + c.m.env.styles.Dim.Render("   resources · locks · audit · backups · messages · check · fleet · ctx NAME · help · q   (tab completes)")
}

func isFleet(v View) bool {
	_, ok := v.(*fleetView)
	return ok
}
