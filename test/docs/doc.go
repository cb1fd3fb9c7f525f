// Package docs checks the repository's Markdown: every relative link in every
// *.md file (README.md, docs/, the chart's README) must name a file that
// exists, and every #anchor a heading that exists, in the same file or in the
// one linked, by GitHub's heading-slug rules. External links (http, https,
// mailto) are not fetched. The check is a test, so make test runs it.
package docs
