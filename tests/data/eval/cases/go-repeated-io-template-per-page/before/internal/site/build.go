// Package site renders the documentation site from Markdown pages.
package site

import (
	"bytes"
	"fmt"
	"html/template"
	"os"
	"path/filepath"

	"github.com/yuin/goldmark"
)

// Page is one Markdown source file with its front matter already parsed.
type Page struct {
	Slug   string
	Title  string
	Layout string
	Source []byte
}

// Builder renders pages into an output directory.
type Builder struct {
	LayoutDir string
	OutDir    string
	md        goldmark.Markdown
}

// NewBuilder returns a builder with the default Markdown extensions.
func NewBuilder(layoutDir, outDir string) *Builder {
	return &Builder{LayoutDir: layoutDir, OutDir: outDir, md: goldmark.New()}
}

// Build renders every page with the shared layout.
func (b *Builder) Build(pages []Page) error {
	layout, err := template.ParseFiles(filepath.Join(b.LayoutDir, "default.html"))
	if err != nil {
		return fmt.Errorf("parse layout: %w", err)
	}
	if err := os.MkdirAll(b.OutDir, 0o755); err != nil {
		return err
	}
	for _, page := range pages {
		var body bytes.Buffer
		if err := b.md.Convert(page.Source, &body); err != nil {
			return fmt.Errorf("%s: %w", page.Slug, err)
		}
		var out bytes.Buffer
		data := map[string]any{"Title": page.Title, "Body": template.HTML(body.String())}
		if err := layout.Execute(&out, data); err != nil {
			return fmt.Errorf("%s: render: %w", page.Slug, err)
		}
		target := filepath.Join(b.OutDir, page.Slug+".html")
		if err := os.WriteFile(target, out.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
