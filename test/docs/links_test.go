package docs_test

import (
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"
)

// TestLinks checks every Markdown file of the repository: a relative link
// must name a file or directory that exists, and its #anchor a heading of
// the file it names (or of its own file, for a bare #anchor).
func TestLinks(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	fsys := os.DirFS(root)
	files, err := markdownFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no Markdown files under %s", root)
	}
	for _, p := range checkLinks(fsys, files) {
		t.Error(p)
	}
	t.Logf("%d Markdown files checked", len(files))
}

// repoRoot is the directory holding go.mod, from the test's directory up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// skippedDirs are not part of the documentation: git's own files, the built
// tools in bin/, vendored code and test fixtures.
var skippedDirs = map[string]bool{".git": true, "bin": true, "vendor": true, "testdata": true, "node_modules": true}

// markdownFiles lists the *.md files of fsys, sorted, without skippedDirs.
func markdownFiles(fsys fs.FS) ([]string, error) {
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && skippedDirs[d.Name()] {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".md") {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

// checkLinks returns one problem per broken link in files, each as
// "file:line: target: what is wrong".
func checkLinks(fsys fs.FS, files []string) []string {
	docs := map[string]*doc{}
	load := func(name string) (*doc, error) {
		if d, ok := docs[name]; ok {
			return d, nil
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		d := parse(string(b))
		docs[name] = d
		return d, nil
	}
	var problems []string
	for _, f := range files {
		d, err := load(f)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", f, err))
			continue
		}
		for _, l := range d.links {
			if msg := checkLink(fsys, load, f, l.target); msg != "" {
				problems = append(problems, fmt.Sprintf("%s:%d: %s: %s", f, l.line, l.target, msg))
			}
		}
	}
	return problems
}

// checkLink says what is wrong with one link target of file from, or "".
func checkLink(fsys fs.FS, load func(string) (*doc, error), from, target string) string {
	if isExternal(target) {
		return ""
	}
	p, frag, _ := strings.Cut(target, "#")
	name := from
	if p != "" {
		unescaped, err := url.PathUnescape(p)
		if err != nil {
			return "not a valid path: " + err.Error()
		}
		name = resolve(from, unescaped)
		if name == ".." || strings.HasPrefix(name, "../") {
			return "points outside the repository"
		}
		if _, err := fs.Stat(fsys, name); err != nil {
			return "no such file or directory"
		}
	}
	if frag == "" || !strings.HasSuffix(name, ".md") {
		return ""
	}
	anchor, err := url.PathUnescape(frag)
	if err != nil {
		return "not a valid anchor: " + err.Error()
	}
	d, err := load(name)
	if err != nil {
		return err.Error()
	}
	if !d.anchors[anchor] {
		return fmt.Sprintf("no heading with anchor #%s in %s", anchor, name)
	}
	return ""
}

// schemeRE is a URL scheme (http:, mailto:, ...): such links are not checked.
var schemeRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)

func isExternal(target string) bool {
	return schemeRE.MatchString(target) || strings.HasPrefix(target, "//")
}

// resolve is the repository path a link p names from file from: relative to
// from's directory, or to the repository root when p starts with "/".
func resolve(from, p string) string {
	if strings.HasPrefix(p, "/") {
		return path.Clean(strings.TrimPrefix(p, "/"))
	}
	return path.Join(path.Dir(from), p)
}

// doc is what the check needs of one Markdown file.
type doc struct {
	anchors map[string]bool // every heading's slug, duplicates numbered
	links   []link
}

type link struct {
	line   int
	target string
}

var (
	// An inline link or image: [text](target "title"); the text may hold
	// one level of brackets and span lines, the target one level of parens.
	inlineLinkRE = regexp.MustCompile(`\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)`)
	// A link reference definition: [label]: target.
	refDefRE = regexp.MustCompile(`(?m)^ {0,3}\[[^\]\n]+\]:[ \t]*(<[^>\n]*>|\S+)`)
	// An HTML anchor: <a name="x"> or id="x".
	htmlAnchorRE = regexp.MustCompile(`<a\s[^>]*(?:name|id)="([^"]+)"`)
)

// parse finds the anchors and links of a Markdown text, ignoring fenced code
// blocks and inline code spans.
func parse(text string) *doc {
	lines := strings.Split(text, "\n")
	prose := make([]string, len(lines))
	d := &doc{anchors: map[string]bool{}}
	seen := map[string]int{}
	var fence string
	for i, line := range lines {
		if fence, prose[i] = fenceState(fence, line); prose[i] == "" {
			continue
		}
		h, ok := heading(lines, i, prose)
		if ok {
			d.anchors[uniqueSlug(seen, h)] = true
		}
		for _, m := range htmlAnchorRE.FindAllStringSubmatch(line, -1) {
			d.anchors[m[1]] = true
		}
	}
	body := blankCodeSpans(strings.Join(prose, "\n"))
	for _, re := range []*regexp.Regexp{inlineLinkRE, refDefRE} {
		for _, m := range re.FindAllStringSubmatchIndex(body, -1) {
			target := strings.Trim(body[m[2]:m[3]], "<>")
			if target != "" {
				d.links = append(d.links, link{line: 1 + strings.Count(body[:m[2]], "\n"), target: target})
			}
		}
	}
	sort.SliceStable(d.links, func(a, b int) bool { return d.links[a].line < d.links[b].line })
	return d
}

// fenceState follows fenced code blocks line by line: given the open fence
// ("" when none) and a line, it returns the fence after the line and the
// line as prose ("" when it is code or a fence line).
func fenceState(fence, line string) (string, string) {
	trimmed := strings.TrimLeft(line, " \t")
	if fence != "" {
		if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]+" \t") == "" {
			return "", ""
		}
		return fence, ""
	}
	for _, c := range []string{"`", "~"} {
		if strings.HasPrefix(trimmed, strings.Repeat(c, 3)) {
			n := len(trimmed) - len(strings.TrimLeft(trimmed, c))
			return strings.Repeat(c, n), ""
		}
	}
	return "", line
}

var (
	atxRE    = regexp.MustCompile(`^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)
	setextRE = regexp.MustCompile(`^ {0,3}(=+|-+)[ \t]*$`)
	// Lines that cannot be the text of a setext heading.
	notParagraphRE = regexp.MustCompile(`^ {0,3}(?:[-*+>|#]|\d+[.)]|$)`)
)

// heading returns the text of the heading at line i: an ATX heading on the
// line, or the line before a setext underline (=== or ---) on the next line.
func heading(lines []string, i int, prose []string) (string, bool) {
	if m := atxRE.FindStringSubmatch(prose[i]); m != nil {
		return m[1], true
	}
	if i+1 < len(lines) && setextRE.MatchString(lines[i+1]) && !notParagraphRE.MatchString(prose[i]) &&
		(i == 0 || strings.TrimSpace(prose[i-1]) == "" || atxRE.MatchString(prose[i-1])) {
		return strings.TrimSpace(prose[i]), true
	}
	return "", false
}

// blankCodeSpans replaces every inline code span (a run of backticks up to
// the next run of the same length) with spaces, keeping line breaks, so that
// links shown as code are not checked.
func blankCodeSpans(s string) string {
	b := []byte(s)
	for i := 0; i < len(b); {
		if b[i] != '`' {
			i++
			continue
		}
		n := runLen(b, i)
		end := -1
		for j := i + n; j < len(b); {
			if b[j] == '`' {
				m := runLen(b, j)
				if m == n {
					end = j + m
					break
				}
				j += m
				continue
			}
			j++
		}
		if end < 0 {
			i += n
			continue
		}
		for k := i; k < end; k++ {
			if b[k] != '\n' {
				b[k] = ' '
			}
		}
		i = end
	}
	return string(b)
}

func runLen(b []byte, i int) int {
	n := 0
	for i+n < len(b) && b[i+n] == b[i] {
		n++
	}
	return n
}

// uniqueSlug is the anchor GitHub gives a heading: its slug, or, when an
// earlier heading of the file took that anchor, the slug with -1, -2, ...
// (github-slugger's rule, which also skips a suffix a heading already took).
func uniqueSlug(seen map[string]int, heading string) string {
	base := slug(heading)
	s := base
	for {
		if _, taken := seen[s]; !taken {
			break
		}
		seen[base]++
		s = fmt.Sprintf("%s-%d", base, seen[base])
	}
	seen[s] = 0
	return s
}

var (
	// [text](target) and ![alt](src) render as their text.
	headingLinkRE = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	htmlTagRE     = regexp.MustCompile(`<[^>]+>`)
)

// slug is GitHub's anchor for a heading's Markdown text: the rendered text
// lowercased, each space a '-', and every other character that is not a
// letter, a digit, '-' or '_' dropped.
func slug(heading string) string {
	text := headingLinkRE.ReplaceAllString(heading, "$1")
	text = htmlTagRE.ReplaceAllString(text, "")
	text = strings.ReplaceAll(text, "`", "")
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(text)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}
