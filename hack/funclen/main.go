// Command funclen keeps functions short enough for a reader to hold: it parses
// every Go file of the module (go/ast, no build needed) and lists the
// functions longer than the limit, exiting 1 when there is any that the
// allowlist does not cover. `make funclen` runs it; `make test` runs it first.
//
// What it measures: the lines from the func keyword to the closing brace,
// blank lines and comments included (what a reader scrolls through), for
// every function declaration and every function literal outside one (a
// package-level var = func...). Generated files (the "Code generated ... DO
// NOT EDIT." header) are skipped; so are directories holding their own go.mod
// (hack/tools), testdata, vendor, bin and dot directories.
//
// Test files are measured too, with one allowance: the single largest slice or
// map literal of a test function (its table of cases) does not count, so a
// table-driven test may grow its table but not its logic. A second table
// counts in full.
//
// The allowlist (-allow, hack/funclen-allow.txt) names functions that may
// stay over the limit for now, each with the length it had when listed: one
// "path name lines" per line, # starts a comment. A listed function fails
// again when it grows past its recorded length. Entries whose function is now
// within the limit (or gone) are reported as stale; -strict makes that fail.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

func main() {
	root := flag.String("root", ".", "module root to scan")
	limit := flag.Int("limit", 80, "longest function allowed, in lines")
	allowPath := flag.String("allow", "", "allowlist file (path name lines per line); empty for none")
	strict := flag.Bool("strict", false, "fail on stale allowlist entries too")
	all := flag.Bool("all", false, "list every function over the limit, allowlisted ones included")
	flag.Parse()
	os.Exit(run(os.Stdout, *root, *limit, *allowPath, *strict, *all))
}

// run scans root and writes its findings to w, returning the exit code.
func run(w io.Writer, root string, limit int, allowPath string, strict, all bool) int {
	allow := map[string]int{}
	if allowPath != "" {
		var err error
		if allow, err = readAllowlist(allowPath); err != nil {
			fmt.Fprintln(w, "funclen:", err)
			return 2
		}
	}
	funcs, err := scan(root)
	if err != nil {
		fmt.Fprintln(w, "funclen:", err)
		return 2
	}
	code := 0
	seen := map[string]bool{}
	for _, f := range funcs {
		if f.Lines <= limit {
			continue
		}
		key := f.key()
		max, listed := allow[key]
		seen[key] = listed
		switch {
		case !listed:
			fmt.Fprintf(w, "%s:%d: %s is %d lines (limit %d)\n", f.Path, f.Line, f.Name, f.Lines, limit)
			code = 1
		case f.Lines > max:
			fmt.Fprintf(w, "%s:%d: %s is %d lines, grown past its allowlisted %d\n", f.Path, f.Line, f.Name, f.Lines, max)
			code = 1
		case all:
			fmt.Fprintf(w, "%s:%d: %s is %d lines (allowlisted at %d)\n", f.Path, f.Line, f.Name, f.Lines, max)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(allow)) {
		if !seen[key] {
			fmt.Fprintf(w, "funclen: stale allowlist entry %q: the function is now within %d lines or gone; remove it\n", key, limit)
			if strict {
				code = 1
			}
		}
	}
	return code
}

// fn is one measured function.
type fn struct {
	Path  string // slash-separated, relative to the root
	Line  int
	Name  string // Name, Recv.Name, (*Recv).Name or "var name" for a literal
	Lines int
}

func (f fn) key() string { return f.Path + " " + f.Name }

// scan measures every function of the non-generated Go files under root.
func scan(root string) ([]fn, error) {
	var out []fn
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && skipDir(path, d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		found, err := measureFile(path, filepath.ToSlash(rel))
		out = append(out, found...)
		return err
	})
	return out, err
}

// skipDir reports directories that are not part of the module's own code.
func skipDir(path, name string) bool {
	switch {
	case strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_"):
		return true
	case name == "testdata" || name == "vendor" || name == "bin":
		return true
	}
	_, err := os.Stat(filepath.Join(path, "go.mod"))
	return err == nil // a nested module
}

// measureFile parses one file and measures its functions; a generated file
// yields none.
func measureFile(path, rel string) ([]fn, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	if ast.IsGenerated(file) {
		return nil, nil
	}
	isTest := strings.HasSuffix(path, "_test.go")
	var out []fn
	add := func(name string, node ast.Node, body *ast.BlockStmt) {
		lines := span(fset, node)
		if isTest && body != nil {
			lines -= largestTable(fset, body)
		}
		out = append(out, fn{Path: rel, Line: fset.Position(node.Pos()).Line, Name: name, Lines: lines})
	}
	for _, decl := range file.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			add(funcName(d), d, d.Body)
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				vs, ok := spec.(*ast.ValueSpec)
				if !ok {
					continue
				}
				for i, v := range vs.Values {
					if lit, ok := v.(*ast.FuncLit); ok && i < len(vs.Names) {
						add("var "+vs.Names[i].Name, lit, lit.Body)
					}
				}
			}
		}
	}
	return out, nil
}

// funcName names a declaration the way a reader searches for it.
func funcName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name
	}
	t := d.Recv.List[0].Type
	star := ""
	if s, ok := t.(*ast.StarExpr); ok {
		star, t = "*", s.X
	}
	switch g := t.(type) { // generic receivers: T[K] or T[K, V]
	case *ast.IndexExpr:
		t = g.X
	case *ast.IndexListExpr:
		t = g.X
	}
	recv := fmt.Sprint(t)
	if id, ok := t.(*ast.Ident); ok {
		recv = id.Name
	}
	if star != "" {
		return "(*" + recv + ")." + d.Name.Name
	}
	return recv + "." + d.Name.Name
}

// span is the number of lines a node covers.
func span(fset *token.FileSet, n ast.Node) int {
	return fset.Position(n.End()).Line - fset.Position(n.Pos()).Line + 1
}

// largestTable is the line count of the largest slice or map literal inside
// body (a test's table of cases), 0 when there is none.
func largestTable(fset *token.FileSet, body *ast.BlockStmt) int {
	best := 0
	ast.Inspect(body, func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		switch lit.Type.(type) {
		case *ast.ArrayType, *ast.MapType:
			if l := span(fset, lit); l > best {
				best = l
			}
			return false // a table inside the table is part of it
		}
		return true
	})
	return best
}

// readAllowlist reads "path name lines" entries; the name may hold spaces
// ("var handler"), so the length is the last field and the path the first.
func readAllowlist(path string) (map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	allow := map[string]int{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 3 {
			return nil, fmt.Errorf("%s:%d: want \"path name lines\", got %q", path, n, sc.Text())
		}
		lines, err := strconv.Atoi(fields[len(fields)-1])
		if err != nil || lines <= 0 {
			return nil, fmt.Errorf("%s:%d: line count %q is not a positive number", path, n, fields[len(fields)-1])
		}
		key := fields[0] + " " + strings.Join(fields[1:len(fields)-1], " ")
		if _, dup := allow[key]; dup {
			return nil, fmt.Errorf("%s:%d: %q is listed twice", path, n, key)
		}
		allow[key] = lines
	}
	return allow, sc.Err()
}
