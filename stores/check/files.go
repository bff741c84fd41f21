package check

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"statescope/stores"
	"statescope/stores/filesystem"
	"statescope/stores/shellcmd"
)

// dirStore is a store kept in one local directory (the filesystem store),
// whose files the check can look at beyond what List shows.
type dirStore interface{ Dir() string }

// tempGrace is how old a statescope temp file must be before it counts as
// left behind: a write holds one for milliseconds.
const tempGrace = time.Minute

// tempPrefix marks statescope's own temporary files (filesystem store).
const tempPrefix = ".statescope-"

// dirScan is what a look at the directory's names and types found.
type dirScan struct {
	dir string
	// temps are statescope temp files older than tempGrace.
	temps []fs.FileInfo
	// irregular maps a record or lock path to why it is not a regular file.
	irregular map[string]string
	// wfctl and engine list the artefacts only that writer makes.
	wfctl, engine []string
}

// scanDir reads the directory's entries with Lstat only: nothing is
// opened, so a FIFO cannot block and a link is never followed.
func scanDir(ctx context.Context, dir string, now time.Time) (*dirScan, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dirents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("state directory %s: %w", dir, err)
	}
	d := &dirScan{dir: dir, irregular: map[string]string{}}
	for _, de := range dirents {
		name := de.Name()
		path := filepath.Join(dir, name)
		switch {
		case strings.HasPrefix(name, tempPrefix):
			if info, err := de.Info(); err == nil && now.Sub(info.ModTime()) > tempGrace {
				d.temps = append(d.temps, info)
			}
			continue
		case name == "metadata.json":
			d.wfctl = append(d.wfctl, name+" (wfctl's generator metadata)")
		case strings.HasSuffix(name, ".lock.json"):
			d.wfctl = append(d.wfctl, name+" (wfctl's lock name)")
		case strings.HasSuffix(name, ".lock"):
			d.engine = append(d.engine, name+" (the engine's lock name)")
		}
		if !strings.HasSuffix(name, ".json") && !strings.HasSuffix(name, ".lock") {
			continue
		}
		if !de.Type().IsRegular() {
			d.irregular[path] = filesystem.DescribeEntry(path, de.Type())
		}
	}
	return d, nil
}

// dirFindings reports temp files, irregular entries and mixed layouts,
// and adds to skip the sources whose unreadable entries they explain.
func (c *checker) dirFindings(d *dirScan, rows []stores.Row, listed []stores.LockInfo, skip map[string]bool) {
	// The store's own account of a temp file (whose run, killed or not)
	// comes first; the directory look adds any it did not list.
	seen := map[string]bool{}
	for _, l := range listed {
		seen[l.Source] = true
		c.add(Finding{Kind: TempFile, Severity: Warning, Resources: []string{filepath.Base(l.Source)}, Source: l.Source,
			Evidence: l.Evidence + "; workflow ignores it", Repair: "rm -- " + shellcmd.Quote(l.Source)})
	}
	for _, info := range d.temps {
		path := filepath.Join(d.dir, info.Name())
		if seen[path] {
			continue
		}
		c.add(Finding{Kind: TempFile, Severity: Warning, Resources: []string{info.Name()}, Source: path,
			Evidence: fmt.Sprintf("statescope temporary file left by a run that was killed (%d bytes, %s old); workflow ignores it",
				info.Size(), stores.HumanDuration(c.opt.Now.Sub(info.ModTime()))),
			Repair: "rm -- " + shellcmd.Quote(path)})
	}
	for path, why := range d.irregular {
		name := filepath.Base(path)
		c.add(Finding{Kind: NotRegularFile, Severity: Critical, Resources: []string{strings.TrimSuffix(strings.TrimSuffix(name, ".json"), ".lock")},
			Source: path, Evidence: why + "; neither statescope nor workflow can use it as a record or lock",
			Repair: "mv -- " + shellcmd.Quote(path) + " " + shellcmd.Quote(path+".not-a-record")})
	}
	for _, r := range rows {
		if !r.Readable {
			continue
		}
		engine, wfctl := filesystem.EngineName(r.ID)+".json", filesystem.WfctlName(r.ID)+".json"
		switch base := filepath.Base(r.Source); {
		case engine == wfctl:
		case base == engine:
			d.engine = append(d.engine, base+" (the engine's name for "+r.ID+")")
		case base == wfctl:
			d.wfctl = append(d.wfctl, base+" (wfctl's name for "+r.ID+")")
		}
	}
	if len(d.wfctl) > 0 && len(d.engine) > 0 {
		c.add(Finding{Kind: MixedLayout, Severity: Warning, Resources: []string{d.dir}, Source: d.dir,
			Evidence: fmt.Sprintf("both writers' layouts in one directory: wfctl's %s; the engine's %s — each finds records only under its own names",
				sample(d.wfctl), sample(d.engine))})
	}
	for path := range d.irregular {
		skip[path] = true
	}
}

// sample lists up to three items and how many more there are.
func sample(items []string) string {
	if len(items) <= 3 {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:3], ", "), len(items)-3)
}

// nameRule gives the names a record of id may have in its store, and the
// name of an entry from its source; ok is false when the store has none.
type nameRule struct {
	names  func(id string) []string
	nameOf func(source string) (string, bool)
	// move renames a record file to its proper name and aside moves a
	// stray copy out of the store's view; "" where no shell command can.
	move  func(source, name string) string
	aside func(source string) string
}

// nameRuleFor: the filesystem store accepts the engine's and wfctl's
// rules; the object stores only the engine's, under the target's prefix.
func nameRuleFor(s stores.Store, target string) *nameRule {
	if d, ok := s.(dirStore); ok {
		dir := d.Dir()
		return &nameRule{
			names: func(id string) []string { return []string{filesystem.EngineName(id), filesystem.WfctlName(id)} },
			nameOf: func(source string) (string, bool) {
				if filepath.Dir(source) != filepath.Clean(dir) {
					return "", false
				}
				return strings.TrimSuffix(filepath.Base(source), ".json"), true
			},
			move: func(source, name string) string {
				return "mv -n -- " + shellcmd.Quote(source) + " " + shellcmd.Quote(filepath.Join(dir, name+".json"))
			},
			aside: func(source string) string {
				return "mv -n -- " + shellcmd.Quote(source) + " " + shellcmd.Quote(source+".duplicate")
			},
		}
	}
	base, ok := objectPrefix(target)
	if !ok {
		return nil
	}
	return &nameRule{
		names: func(id string) []string { return []string{stores.ObjectName(id)} },
		nameOf: func(source string) (string, bool) {
			rest, ok := strings.CutPrefix(source, base)
			return strings.TrimSuffix(rest, ".json"), ok
		},
		move:  func(string, string) string { return "" },
		aside: func(string) string { return "" },
	}
}

// objectPrefix is the start of every record source of an object-store
// target: scheme://bucket/prefix (the prefix defaults as upstream's does).
func objectPrefix(target string) (string, bool) {
	t, err := stores.ParseTarget(target)
	if err != nil || t.URL == nil || t.URL.Host == "" {
		return "", false
	}
	switch t.Scheme {
	case "s3", "spaces", "gs", "azblob":
	default:
		return "", false
	}
	prefix := strings.TrimPrefix(t.URL.Path, "/")
	if prefix == "" {
		prefix = "iac-state/"
	}
	return t.Scheme + "://" + t.URL.Host + "/" + prefix, true
}

// names reports duplicate IDs and records under a name their ID does not
// give under any rule the store's writers use.
func (c *checker) names(rows []stores.Row, rule *nameRule) {
	claimsOf := make(map[string]int, len(rows))
	for _, r := range rows {
		if r.Readable {
			claimsOf[r.ID]++
		}
	}
	var dups map[string][]stores.Row
	var taken map[string]bool
	if rule != nil {
		taken = make(map[string]bool, len(rows))
	}
	for _, r := range rows {
		if rule != nil {
			if name, ok := rule.nameOf(r.Source); ok {
				taken[name] = true
			}
		}
		if r.Readable && claimsOf[r.ID] > 1 {
			if dups == nil {
				dups = map[string][]stores.Row{}
			}
			dups[r.ID] = append(dups[r.ID], r)
		}
	}
	for _, claims := range dups {
		slices.SortFunc(claims, func(a, b stores.Row) int { return strings.Compare(a.Source, b.Source) })
		c.duplicate(claims, rule)
	}
	if rule == nil {
		return
	}
	for _, r := range rows {
		if r.Readable {
			c.misnamed(r, rule, taken, claimsOf[r.ID])
		}
	}
}

// duplicate reports records claiming one ID.
func (c *checker) duplicate(claims []stores.Row, rule *nameRule) {
	id := claims[0].ID
	var sources []string
	for _, r := range claims {
		sources = append(sources, r.Source)
	}
	f := Finding{Kind: DuplicateID, Severity: Critical, Resources: []string{id}, Source: strings.Join(sources, ", "),
		Evidence: fmt.Sprintf("%d records claim resource_id %q: %s; workflow reads whichever its name rule finds", len(claims), id, strings.Join(sources, ", "))}
	if rule != nil {
		for _, r := range claims {
			if name, ok := rule.nameOf(r.Source); ok && !slices.Contains(rule.names(id), name) {
				// The copy under a name the ID does not give is the stray.
				f.Repair = rule.aside(r.Source)
				break
			}
		}
	}
	c.add(f)
}

// misnamed reports a record under a name its ID does not give; it is
// moved to its name only when it is the ID's only record and the name is
// free.
func (c *checker) misnamed(r stores.Row, rule *nameRule, taken map[string]bool, claims int) {
	name, ok := rule.nameOf(r.Source)
	if !ok || slices.Contains(rule.names(r.ID), name) {
		return
	}
	want := rule.names(r.ID)[0]
	f := Finding{Kind: NameMismatch, Severity: Warning, Resources: []string{r.ID}, Source: r.Source,
		Evidence: fmt.Sprintf("%s holds resource_id %q, whose name is %s; workflow looks it up there and will not find it", r.Source, r.ID, strings.Join(uniq(rule.names(r.ID)), " or "))}
	if !taken[want] && claims == 1 {
		f.Repair = rule.move(r.Source, want)
	}
	c.add(f)
}

func uniq(list []string) []string {
	if len(list) == 2 && list[0] == list[1] {
		return list[:1]
	}
	return list
}
