package manifests

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dockerfile is the part of a Dockerfile these checks look at.
type dockerfile struct {
	stages []stage
}

type stage struct {
	image, name string
	copies      []dockerCopy
	runs        []string
	user        string
	entrypoint  []string
}

type dockerCopy struct {
	from     string
	src, dst string
}

// parseDockerfile reads instructions (line continuations joined, comments
// dropped) into stages.
func parseDockerfile(t *testing.T, file string) dockerfile {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var instrs []string
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		instrs = append(instrs, cur.String())
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var d dockerfile
	for _, in := range instrs {
		op, rest, _ := strings.Cut(in, " ")
		fields := strings.Fields(rest)
		switch strings.ToUpper(op) {
		case "FROM":
			var st stage
			for i := 0; i < len(fields); i++ {
				switch {
				case strings.HasPrefix(fields[i], "--"):
				case strings.EqualFold(fields[i], "AS") && i+1 < len(fields):
					st.name = fields[i+1]
					i++
				default:
					st.image = fields[i]
				}
			}
			d.stages = append(d.stages, st)
			continue
		}
		if len(d.stages) == 0 {
			continue // ARG before FROM
		}
		st := &d.stages[len(d.stages)-1]
		switch strings.ToUpper(op) {
		case "COPY":
			c := dockerCopy{}
			var args []string
			for _, f := range fields {
				if v, ok := strings.CutPrefix(f, "--from="); ok {
					c.from = v
				} else if !strings.HasPrefix(f, "--") {
					args = append(args, f)
				}
			}
			if len(args) == 2 {
				c.src, c.dst = args[0], args[1]
			} else {
				c.src, c.dst = strings.Join(args[:len(args)-1], " "), args[len(args)-1]
			}
			st.copies = append(st.copies, c)
		case "RUN":
			st.runs = append(st.runs, rest)
		case "USER":
			st.user = strings.TrimSpace(rest)
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(rest), &st.entrypoint); err != nil {
				t.Errorf("ENTRYPOINT %s: use the exec (JSON) form: %v", rest, err)
			}
		}
	}
	return d
}

// mainPackages lists the cmd/<name> directories holding package main.
func mainPackages(t *testing.T) []string {
	t.Helper()
	out := run(t, "go", "list", "-f", "{{if eq .Name \"main\"}}{{.ImportPath}}{{end}}", "./cmd/...")
	var names []string
	for _, l := range strings.Fields(string(out)) {
		names = append(names, l[strings.LastIndex(l, "/")+1:])
	}
	if len(names) == 0 {
		t.Fatal("no main packages under cmd/")
	}
	return names
}

// imageBinaries returns the binaries the final stage copies from the builder:
// container path → binary name.
func imageBinaries(t *testing.T) map[string]string {
	t.Helper()
	d := parseDockerfile(t, path(t, "Dockerfile"))
	final := d.stages[len(d.stages)-1]
	bins := map[string]string{}
	for _, c := range final.copies {
		if c.from != "" {
			bins[c.dst] = filepath.Base(c.src)
		}
	}
	return bins
}

func TestDockerfile(t *testing.T) {
	d := parseDockerfile(t, path(t, "Dockerfile"))
	if len(d.stages) < 2 {
		t.Fatalf("want a multi-stage build, got %d stage(s)", len(d.stages))
	}
	builder, final := d.stages[0], d.stages[len(d.stages)-1]
	checkBaseImages(t, builder, final)
	build := checkGoBuild(t, builder)
	checkImageBinaries(t, d, build)
	bins := imageBinaries(t)
	if len(final.entrypoint) != 1 || bins[final.entrypoint[0]] != "manager" {
		t.Errorf("ENTRYPOINT %v: want [\"/manager\"] (a binary of the image; have %v)", final.entrypoint, bins)
	}
}

// checkBaseImages: the builder's Go can build go.mod's go version; the final
// image is distroless, run as nonroot.
func checkBaseImages(t *testing.T, builder, final stage) {
	gomod, err := os.ReadFile(path(t, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	if want := "golang:" + string(m[1]); builder.image != want && !strings.HasPrefix(builder.image, want+"-") && !strings.HasPrefix(builder.image, want+".") {
		t.Errorf("builder image %q: want %s (go.mod says go %s)", builder.image, want, m[1])
	}
	if final.image != "gcr.io/distroless/static:nonroot" {
		t.Errorf("final image %q: want gcr.io/distroless/static:nonroot", final.image)
	}
	if final.user != "65532:65532" {
		t.Errorf("final stage USER %q: want 65532:65532", final.user)
	}
}

// checkGoBuild returns the builder's go build command, checked to build
// static, trimmed, stripped binaries.
func checkGoBuild(t *testing.T, builder stage) string {
	build := ""
	for _, r := range builder.runs {
		if strings.Contains(r, "go build") {
			build = r
		}
	}
	if build == "" {
		t.Fatal("the builder stage has no RUN go build")
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w"`} {
		if !strings.Contains(build, want) {
			t.Errorf("go build %q lacks %s", build, want)
		}
	}
	return build
}

// checkImageBinaries: every COPY'd binary is a cmd/ main package built by
// the go build; every cmd/ main package but the client tools is in an
// image; the simulator is not in the production image (the last stage) but
// in its own.
func checkImageBinaries(t *testing.T, d dockerfile, build string) {
	builder, final := d.stages[0], d.stages[len(d.stages)-1]
	mains := mainPackages(t)
	var copied []string
	for _, st := range d.stages[1 : len(d.stages)-1] {
		for _, c := range st.copies {
			copied = append(copied, filepath.Base(c.src))
		}
		if st.user != "65532:65532" {
			t.Errorf("stage %s: USER %q, want 65532:65532", st.name, st.user)
		}
	}
	for _, name := range imageBinaries(t) {
		if name == "alipay-sim" {
			t.Error("the production image (last stage) contains alipay-sim; it belongs in the simulator target")
		}
	}
	for _, c := range final.copies {
		if c.from == "" {
			t.Errorf("final stage COPY %s %s: only binaries from the builder belong in the image", c.src, c.dst)
			continue
		}
		if c.from != builder.name {
			t.Errorf("COPY --from=%s: no such stage (the builder is %q)", c.from, builder.name)
		}
		name := filepath.Base(c.src)
		copied = append(copied, name)
		if !slices.Contains(mains, name) {
			t.Errorf("COPY %s: cmd/%s is not a main package (have %v)", c.src, name, mains)
		}
		if !strings.Contains(build, "./cmd/"+name) {
			t.Errorf("COPY %s: the go build does not build ./cmd/%s", c.src, name)
		}
		if filepath.Dir(c.src) != "/out" && !strings.Contains(build, filepath.Dir(c.src)) {
			t.Errorf("COPY %s: the go build does not write to %s", c.src, filepath.Dir(c.src))
		}
	}
	for _, m := range mains {
		if why, ok := clientTools[m]; ok {
			if slices.Contains(copied, m) {
				t.Errorf("cmd/%s is copied into an image, but %s", m, why)
			}
			continue
		}
		if !slices.Contains(copied, m) {
			t.Errorf("cmd/%s is not copied into the image", m)
		}
	}
}

// TestDockerignoreKeepsBuildInputs checks that .dockerignore excludes none of
// the files the three binaries are built from (Go files, embedded files,
// go.mod, go.sum).
func TestDockerignoreKeepsBuildInputs(t *testing.T) {
	ignore := readDockerignore(t)
	r := root(t)
	out := run(t, "go", "list", "-deps", "-f",
		`{{if and .Module .Module.Main}}{{range .GoFiles}}{{$.Dir}}/{{.}}{{"\n"}}{{end}}{{range .EmbedFiles}}{{$.Dir}}/{{.}}{{"\n"}}{{end}}{{end}}`,
		"./cmd/...")
	files := []string{"go.mod", "go.sum"}
	for _, f := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(r, f)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, filepath.ToSlash(rel))
	}
	if len(files) < 10 {
		t.Fatalf("go list found only %v", files)
	}
	for _, f := range files {
		if p := ignore.match(f); p != "" {
			t.Errorf(".dockerignore pattern %q excludes %s, which the image build needs", p, f)
		}
	}
	for _, f := range []string{"bin/manager", ".git/HEAD"} {
		if ignore.match(f) == "" {
			t.Errorf(".dockerignore does not exclude %s", f)
		}
	}
}

type dockerignore []struct {
	pattern string
	re      *regexp.Regexp
	negate  bool
}

func readDockerignore(t *testing.T) dockerignore {
	t.Helper()
	data, err := os.ReadFile(path(t, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var d dockerignore
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		neg := strings.HasPrefix(l, "!")
		p := strings.Trim(filepath.ToSlash(filepath.Clean(strings.TrimPrefix(l, "!"))), "/")
		// Docker's matching: filepath.Match per path, plus ** for any number of directories.
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(p); i++ {
			switch c := p[i]; {
			case c == '*' && i+1 < len(p) && p[i+1] == '*':
				re.WriteString(".*")
				i++
				if i+1 < len(p) && p[i+1] == '/' {
					re.WriteString("/?")
					i++
				}
			case c == '*':
				re.WriteString("[^/]*")
			case c == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString("$")
		d = append(d, struct {
			pattern string
			re      *regexp.Regexp
			negate  bool
		}{l, regexp.MustCompile(re.String()), neg})
	}
	return d
}

// match returns the pattern that excludes file (or a parent directory of
// it), or "" when the file is kept; later patterns win, as in Docker.
func (d dockerignore) match(file string) string {
	excluded := ""
	for _, p := range d {
		hit := false
		for dir := file; dir != "." && dir != "/"; dir = filepath.Dir(dir) {
			if p.re.MatchString(dir) {
				hit = true
				break
			}
		}
		if hit {
			if p.negate {
				excluded = ""
			} else {
				excluded = p.pattern
			}
		}
	}
	return excluded
}

// clientTools are main packages that run on a person's machine, not in the
// cluster: no image carries them.
var clientTools = map[string]string{
	"kubectl-cashier": "it is a kubectl plugin, installed on the on-call engineer's machine (make build, krew)",
}
