package docs_test

import (
	"reflect"
	"testing"
	"testing/fstest"
)

func TestSlug(t *testing.T) {
	for _, tt := range []struct{ heading, want string }{
		{"Two commands", "two-commands"},
		{"What `make demo` shows", "what-make-demo-shows"},
		{"`kubectl cashier`: the on-call screen", "kubectl-cashier-the-on-call-screen"},
		{"GatewayConfig (cluster-scoped): one merchant's connection", "gatewayconfig-cluster-scoped-one-merchants-connection"},
		{"Retention soaks at 100,000 payments", "retention-soaks-at-100000-payments"},
		{"Where a Payment's apiserver CPU goes", "where-a-payments-apiserver-cpu-goes"},
		{"Capture, Refund, CustomsDeclaration: one-shot operations", "capture-refund-customsdeclaration-one-shot-operations"},
		{"snake_case and kebab-case stay", "snake_case-and-kebab-case-stay"},
		{"A → B", "a--b"},
		{"Ünïcode Überschrift", "ünïcode-überschrift"},
		{"  padded  ", "padded"},
		{"[linked](other.md) heading", "linked-heading"},
		{"<em>html</em> tags", "html-tags"},
		{"1.0 gateway calls / payment", "10-gateway-calls--payment"},
	} {
		if got := slug(tt.heading); got != tt.want {
			t.Errorf("slug(%q) = %q, want %q", tt.heading, got, tt.want)
		}
	}
}

func TestUniqueSlug(t *testing.T) {
	for _, tt := range []struct {
		name     string
		headings []string
		want     []string
	}{
		{"distinct", []string{"A", "B"}, []string{"a", "b"}},
		{"duplicates numbered", []string{"Results", "Results", "Results"}, []string{"results", "results-1", "results-2"}},
		{"a suffix already taken", []string{"X", "X 1", "X"}, []string{"x", "x-1", "x-2"}},
		{"case and punctuation collide", []string{"Targets", "targets!"}, []string{"targets", "targets-1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[string]int{}
			var got []string
			for _, h := range tt.headings {
				got = append(got, uniqueSlug(seen, h))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		name, text  string
		wantAnchors []string
		wantLinks   []link
	}{
		{name: "atx and setext headings", text: "# Title #\n\nSub\n---\n\nOther\n===\n\n## Title\n",
			wantAnchors: []string{"title", "sub", "other", "title-1"}},
		{name: "not headings", text: "#hashtag\n\n    # indented code\n\n- item\n---\n",
			wantAnchors: nil},
		{name: "links and images", text: "see [a](a.md), ![img](x.png \"title\") and [b](b.md#c)\n",
			wantLinks: []link{{1, "a.md"}, {1, "x.png"}, {1, "b.md#c"}}},
		{name: "link text across lines", text: "one [two\nthree](t.md) four\n",
			wantLinks: []link{{2, "t.md"}}},
		{name: "code is not checked", text: "```\n# not a heading\n[x](missing.md)\n```\n`[y](missing.md)` ``a ` [z](m.md)``\n",
			wantLinks: nil},
		{name: "tilde fence and indented fence", text: "~~~~\n[x](m.md)\n~~~~\n   ```sh\n[y](m.md)\n   ```\n[z](z.md)\n",
			wantLinks: []link{{7, "z.md"}}},
		{name: "reference definition and angle brackets", text: "[r]: <docs/a b.md>\n[s]: s.md \"t\"\n[u](<u v.md>)\n",
			wantLinks: []link{{1, "docs/a b.md"}, {2, "s.md"}, {3, "u v.md"}}},
		{name: "html anchor", text: "<a name=\"here\"></a>\n", wantAnchors: []string{"here"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := parse(tt.text)
			for _, a := range tt.wantAnchors {
				if !d.anchors[a] {
					t.Errorf("anchor %q missing; have %v", a, d.anchors)
				}
			}
			if len(d.anchors) != len(tt.wantAnchors) {
				t.Errorf("anchors %v, want %q", d.anchors, tt.wantAnchors)
			}
			if !reflect.DeepEqual(d.links, tt.wantLinks) {
				t.Errorf("links %v, want %v", d.links, tt.wantLinks)
			}
		})
	}
}

func TestCheckLinks(t *testing.T) {
	fsys := fstest.MapFS{
		"README.md":         {Data: []byte("# Top\n\n[ok](docs/a.md) [dir](docs) [anchor](docs/a.md#part-two)\n")},
		"docs/a.md":         {Data: []byte("# A\n\n## Part two\n\n[up](../README.md#top) [self](#a) [root](/docs/a.md)\n")},
		"docs/broken.md":    {Data: []byte("# B\n\n[gone](gone.md)\n[no anchor](a.md#part-three)\n[self](#nope)\n")},
		"docs/external.md":  {Data: []byte("[h](https://example.com/x.md#y) [m](mailto:a@b.c) [p](//host/x)\n")},
		"docs/outside.md":   {Data: []byte("[out](../../etc/passwd)\n")},
		"docs/code-link.md": {Data: []byte("[code](../main.go#L10) [escaped](a%2Emd)\n")},
		"main.go":           {Data: []byte("package main\n")},
	}
	files, err := markdownFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	got := checkLinks(fsys, files)
	want := []string{
		"docs/broken.md:3: gone.md: no such file or directory",
		"docs/broken.md:4: a.md#part-three: no heading with anchor #part-three in docs/a.md",
		"docs/broken.md:5: #nope: no heading with anchor #nope in docs/broken.md",
		"docs/outside.md:1: ../../etc/passwd: points outside the repository",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems\n%q\nwant\n%q", got, want)
	}
}

func TestMarkdownFilesSkips(t *testing.T) {
	fsys := fstest.MapFS{
		"README.md":                       {},
		"docs/x.md":                       {},
		"bin/k8s/README.md":               {},
		".git/x.md":                       {},
		"vendor/m/README.md":              {},
		"internal/cli/testdata/golden.md": {},
		"notes.txt":                       {},
	}
	got, err := markdownFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"README.md", "docs/x.md"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
