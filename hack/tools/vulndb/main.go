// Command vulndb turns the OSV entries shipped in the golang.org/x/vulndb
// module (data/osv/GO-*.json) into the on-disk layout that
// `govulncheck -db file://DIR` reads (the "v1" database):
//
//	DIR/index/db.json       {"modified": ...}
//	DIR/index/modules.json  [{"path", "vulns": [{"id", "modified", "fixed"}]}]
//	DIR/index/vulns.json    [{"id", "modified", "aliases"}]
//	DIR/ID/GO-YYYY-NNNN.json  the OSV entry itself
//
// The vulnerability website cannot be reached from here, but the module proxy
// can, and the module carries the same entries. hack/vuln.sh runs this.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// entry is the part of an OSV entry the index needs.
type entry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		Ranges []struct {
			Type   string  `json:"type"`
			Events []event `json:"events"`
		} `json:"ranges"`
	} `json:"affected"`
}

type event struct {
	Introduced string `json:"introduced,omitempty"`
	Fixed      string `json:"fixed,omitempty"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	// Fixed is the highest fixed version, "" when some range is still open.
	// govulncheck only uses it to skip entries for versions at or above it.
	Fixed string `json:"fixed,omitempty"`
}

type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

type vulnMeta struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
}

func main() {
	src := flag.String("osv", "", "directory of OSV JSON files (data/osv of golang.org/x/vulndb)")
	out := flag.String("out", "", "directory to write the database to (replaced)")
	modified := flag.String("modified", "", "RFC 3339 time of the source snapshot; the database is at least this new")
	flag.Parse()
	if *src == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: vulndb -osv DIR -out DIR [-modified TIME]")
		os.Exit(2)
	}
	if err := build(*src, *out, *modified); err != nil {
		fmt.Fprintln(os.Stderr, "vulndb:", err)
		os.Exit(1)
	}
}

func build(src, out, modified string) error {
	var dbTime time.Time
	if modified != "" {
		t, err := time.Parse(time.RFC3339, modified)
		if err != nil {
			return fmt.Errorf("-modified: %w", err)
		}
		dbTime = t
	}
	files, err := filepath.Glob(filepath.Join(src, "GO-*.json"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no GO-*.json entries in %s", src)
	}
	tmp := out + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	for _, d := range []string{"index", "ID"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
			return err
		}
	}
	modules := map[string]*moduleMeta{}
	var vulns []vulnMeta
	for i, f := range files {
		e, raw, err := readEntry(f)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(tmp, "ID", e.ID+".json"), raw, 0o644); err != nil {
			return err
		}
		vulns = append(vulns, vulnMeta{ID: e.ID, Modified: e.Modified, Aliases: e.Aliases})
		for path, fixed := range fixedByModule(e) {
			m := modules[path]
			if m == nil {
				m = &moduleMeta{Path: path}
				modules[path] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified, Fixed: fixed})
		}
		if e.Modified.After(dbTime) {
			dbTime = e.Modified
		}
		if (i+1)%1000 == 0 {
			fmt.Fprintf(os.Stderr, ">> vulndb: %d/%d entries\n", i+1, len(files))
		}
	}
	if err := writeIndex(tmp, dbTime, modules, vulns); err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, ">> vulndb: %d entries, %d modules, modified %s -> %s\n",
		len(vulns), len(modules), dbTime.Format(time.RFC3339), out)
	return nil
}

func readEntry(file string) (*entry, []byte, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	var e entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	if want := strings.TrimSuffix(filepath.Base(file), ".json"); e.ID != want {
		return nil, nil, fmt.Errorf("%s: id %q does not match the file name", file, e.ID)
	}
	return &e, raw, nil
}

// fixedByModule returns, per affected module, the highest fixed version, or
// "" when any of its ranges has no fix after its last introduction.
func fixedByModule(e *entry) map[string]string {
	res := map[string]string{}
	open := map[string]bool{}
	for _, a := range e.Affected {
		path := a.Package.Name
		if _, ok := res[path]; !ok {
			res[path] = ""
		}
		for _, r := range a.Ranges {
			if r.Type != "SEMVER" {
				continue
			}
			last := ""
			for _, ev := range r.Events {
				switch {
				case ev.Introduced != "":
					last = "introduced"
				case ev.Fixed != "":
					last = "fixed"
					if cur := res[path]; cur == "" || semver.Compare("v"+ev.Fixed, "v"+cur) > 0 {
						res[path] = ev.Fixed
					}
				}
			}
			if last != "fixed" {
				open[path] = true
			}
		}
	}
	for path := range open {
		res[path] = ""
	}
	return res
}

func writeIndex(dir string, modified time.Time, modules map[string]*moduleMeta, vulns []vulnMeta) error {
	mods := make([]*moduleMeta, 0, len(modules))
	for _, m := range modules {
		sort.Slice(m.Vulns, func(i, j int) bool { return m.Vulns[i].ID < m.Vulns[j].ID })
		mods = append(mods, m)
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].Path < mods[j].Path })
	sort.Slice(vulns, func(i, j int) bool { return vulns[i].ID < vulns[j].ID })
	for name, v := range map[string]any{
		"db.json":      map[string]time.Time{"modified": modified},
		"modules.json": mods,
		"vulns.json":   vulns,
	} {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "index", name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
