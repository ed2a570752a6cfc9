// Command render renders a Helm chart the way `helm template` does, for the
// chart tests on machines without a Helm binary. It uses the same engine as
// Helm (Go's text/template with the sprig functions) and gives templates what
// Helm gives them:
//
//	.Values        values.yaml, then each -f file, then each --set/--set-string,
//	               coalesced as Helm does (a null removes a default; numbers
//	               from YAML files are float64, from --set int64, as in Helm)
//	.Release       Name, Namespace, Service ("Helm"), IsInstall, IsUpgrade, Revision
//	.Chart         the Chart.yaml fields under Helm's names (Name, Version, AppVersion, ...)
//	.Capabilities  KubeVersion (Version, Major, Minor, GitVersion), APIVersions.Has, HelmVersion
//	.Template      Name and BasePath of the template being rendered
//	.Files         Get, GetBytes, Lines, Glob, AsConfig, AsSecrets over the chart's files
//	functions      sprig (without env and expandenv, as in Helm) plus toYaml, fromYaml,
//	               fromYamlArray, toJson, fromJson, fromJsonArray, toToml (unsupported:
//	               an error), include, tpl, required, lookup (always empty, as in
//	               `helm template`), with missingkey=zero and "<no value>" removed.
//
// Every file under templates/ is parsed into one template set named
// "<chart>/templates/<file>"; those whose base name starts with "_" are
// partials and produce no output, NOTES.txt is rendered only with -notes.
// Output is `helm template`'s: "---\n# Source: <name>\n<text>" per template
// whose text is not blank, in name order.
//
// Build (offline, Debian's Go packages, GOPATH mode): copy this file and a
// go.mod into $TMP/src/render, then
//
//	GO111MODULE=off GOPROXY=off GOPATH=$TMP:/usr/share/gocode go build
//
// (tests/chart/test_chart.py does this).
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"

	sprig "github.com/Masterminds/sprig/v3"
	yaml "gopkg.in/yaml.v2"
)

// ---- command line

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type options struct {
	chartDir   string
	release    string
	namespace  string
	files      multiFlag
	sets       multiFlag
	setStrings multiFlag
	notes      bool
	kubeVer    string
	apiVers    multiFlag
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.chartDir, "chart", ".", "chart directory")
	flag.StringVar(&o.release, "name", "release-name", "release name")
	flag.StringVar(&o.namespace, "namespace", "default", "release namespace")
	flag.Var(&o.files, "f", "values file (repeatable)")
	flag.Var(&o.sets, "set", "key=value[,key=value] (repeatable)")
	flag.Var(&o.setStrings, "set-string", "key=value, value kept a string (repeatable)")
	flag.BoolVar(&o.notes, "notes", false, "render templates/NOTES.txt only")
	flag.StringVar(&o.kubeVer, "kube-version", "v1.28.0", "Capabilities.KubeVersion")
	flag.Var(&o.apiVers, "api-versions", "extra Capabilities.APIVersions (repeatable)")
	flag.Parse()
	return o
}

func main() {
	o := parseFlags()
	out, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
	os.Stdout.WriteString(out)
}

// ---- YAML and JSON as Helm reads and writes them (sigs.k8s.io/yaml: YAML
// goes through JSON, so maps have string keys and numbers are float64)

func stringKeys(v interface{}) (interface{}, error) {
	switch x := v.(type) {
	case map[interface{}]interface{}:
		m := make(map[string]interface{}, len(x))
		for k, e := range x {
			c, err := stringKeys(e)
			if err != nil {
				return nil, err
			}
			m[fmt.Sprint(k)] = c
		}
		return m, nil
	case []interface{}:
		for i, e := range x {
			c, err := stringKeys(e)
			if err != nil {
				return nil, err
			}
			x[i] = c
		}
		return x, nil
	}
	return v, nil
}

func yamlToJSON(data []byte) ([]byte, error) {
	var v interface{}
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	v, err := stringKeys(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func yamlUnmarshal(data []byte, into interface{}) error {
	j, err := yamlToJSON(data)
	if err != nil {
		return err
	}
	return json.Unmarshal(j, into)
}

func yamlMarshal(v interface{}) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var obj interface{}
	if err := yaml.Unmarshal(j, &obj); err != nil {
		return nil, err
	}
	return yaml.Marshal(obj)
}

func toYAML(v interface{}) string {
	b, err := yamlMarshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(b), "\n")
}

func fromYAML(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yamlUnmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromYAMLArray(s string) []interface{} {
	var a []interface{}
	if err := yamlUnmarshal([]byte(s), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

func toJSON(v interface{}) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromJSONArray(s string) []interface{} {
	var a []interface{}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

// ---- values: files coalesced over the chart's defaults, then --set

func readValuesFile(p string) (map[string]interface{}, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	m := map[string]interface{}{}
	if err := yamlUnmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	if m == nil {
		m = map[string]interface{}{}
	}
	return m, nil
}

// coalesce merges src over dst as Helm merges user values over defaults:
// maps merge key by key, anything else replaces, and a null in src removes
// the key.
func coalesce(dst, src map[string]interface{}) map[string]interface{} {
	for k, sv := range src {
		if sv == nil {
			delete(dst, k)
			continue
		}
		sm, sIsMap := sv.(map[string]interface{})
		dm, dIsMap := dst[k].(map[string]interface{})
		if sIsMap && dIsMap {
			dst[k] = coalesce(dm, sm)
		} else {
			dst[k] = sv
		}
	}
	return dst
}

// splitUnescaped splits s at sep where sep is not preceded by a backslash,
// and removes the escaping backslashes before sep.
func splitUnescaped(s string, sep byte) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] == sep {
			cur.WriteByte(sep)
			i++
			continue
		}
		if s[i] == sep {
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(s[i])
	}
	return append(parts, cur.String())
}

// typedValue is Helm's strvals typing for --set: true, false, null, int64,
// anything else a string.
func typedValue(s string) interface{} {
	switch s {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	if len(s) > 1 && s[0] == '0' {
		return s
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	return s
}

type pathElem struct {
	key   string
	index int // >= 0 for key[index]
}

func parseKeyPath(k string) ([]pathElem, error) {
	var elems []pathElem
	for _, part := range splitUnescaped(k, '.') {
		name := part
		idx := -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			n, err := strconv.Atoi(part[i+1 : len(part)-1])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("bad index in %q", k)
			}
			name, idx = part[:i], n
		}
		if name == "" {
			return nil, fmt.Errorf("empty key in %q", k)
		}
		elems = append(elems, pathElem{name, idx})
	}
	return elems, nil
}

func setPath(m map[string]interface{}, elems []pathElem, v interface{}) {
	e := elems[0]
	last := len(elems) == 1
	if e.index < 0 {
		if last {
			if v == nil {
				delete(m, e.key)
			} else {
				m[e.key] = v
			}
			return
		}
		child, ok := m[e.key].(map[string]interface{})
		if !ok {
			child = map[string]interface{}{}
			m[e.key] = child
		}
		setPath(child, elems[1:], v)
		return
	}
	list, _ := m[e.key].([]interface{})
	for len(list) <= e.index {
		list = append(list, nil)
	}
	if last {
		list[e.index] = v
	} else {
		child, ok := list[e.index].(map[string]interface{})
		if !ok {
			child = map[string]interface{}{}
			list[e.index] = child
		}
		setPath(child, elems[1:], v)
	}
	m[e.key] = list
}

func applySet(m map[string]interface{}, arg string, typed bool) error {
	for _, kv := range splitUnescaped(arg, ',') {
		eq := strings.IndexByte(kv, '=')
		if eq <= 0 {
			return fmt.Errorf("--set %q: expected key=value", kv)
		}
		elems, err := parseKeyPath(kv[:eq])
		if err != nil {
			return err
		}
		var v interface{} = kv[eq+1:]
		if typed {
			v = typedValue(kv[eq+1:])
		}
		setPath(m, elems, v)
	}
	return nil
}

func buildValues(o options) (map[string]interface{}, error) {
	vals, err := readValuesFile(filepath.Join(o.chartDir, "values.yaml"))
	if err != nil {
		return nil, err
	}
	for _, f := range o.files {
		user, err := readValuesFile(f)
		if err != nil {
			return nil, err
		}
		vals = coalesce(vals, user)
	}
	for _, s := range o.sets {
		if err := applySet(vals, s, true); err != nil {
			return nil, err
		}
	}
	for _, s := range o.setStrings {
		if err := applySet(vals, s, false); err != nil {
			return nil, err
		}
	}
	return vals, nil
}

// ---- .Chart, .Capabilities, .Files

var chartFields = map[string]string{
	"apiVersion": "APIVersion", "name": "Name", "version": "Version",
	"kubeVersion": "KubeVersion", "description": "Description", "type": "Type",
	"keywords": "Keywords", "home": "Home", "sources": "Sources",
	"dependencies": "Dependencies", "maintainers": "Maintainers", "icon": "Icon",
	"appVersion": "AppVersion", "deprecated": "Deprecated", "annotations": "Annotations",
}

func readChart(dir string) (map[string]interface{}, error) {
	raw, err := readValuesFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil, err
	}
	c := map[string]interface{}{}
	for k, v := range raw {
		name, ok := chartFields[k]
		if !ok {
			return nil, fmt.Errorf("Chart.yaml: unknown field %q", k)
		}
		c[name] = v
	}
	for _, req := range []string{"APIVersion", "Name", "Version"} {
		if s, _ := c[req].(string); s == "" {
			return nil, fmt.Errorf("Chart.yaml: %s is required", req)
		}
	}
	if c["APIVersion"] != "v2" {
		return nil, fmt.Errorf("Chart.yaml: apiVersion %v, want v2", c["APIVersion"])
	}
	return c, nil
}

type versionSet []string

func (v versionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

type kubeVersion struct {
	Version, Major, Minor, GitVersion string
}

func (k kubeVersion) String() string { return k.Version }

func capabilities(o options) (map[string]interface{}, error) {
	v := strings.TrimPrefix(o.kubeVer, "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return nil, fmt.Errorf("bad -kube-version %q", o.kubeVer)
	}
	apis := versionSet{"v1", "apps/v1", "batch/v1", "policy/v1", "rbac.authorization.k8s.io/v1",
		"networking.k8s.io/v1", "autoscaling/v2", "storage.k8s.io/v1"}
	apis = append(apis, o.apiVers...)
	return map[string]interface{}{
		"KubeVersion": kubeVersion{Version: "v" + v, Major: parts[0], Minor: parts[1],
			GitVersion: "v" + v},
		"APIVersions": apis,
		"HelmVersion": map[string]interface{}{"Version": "v3.13.0"},
	}, nil
}

// files is .Files: the chart's files other than Chart.yaml, values.yaml and
// templates/, keyed by slash-separated path.
type files map[string][]byte

func readFiles(dir string) (files, error) {
	fs := files{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if info.IsDir() {
			if rel == "templates" || rel == "charts" {
				return filepath.SkipDir
			}
			return nil
		}
		if rel == "Chart.yaml" || rel == "values.yaml" || rel == ".helmignore" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fs[rel] = data
		return nil
	})
	return fs, err
}

func (f files) GetBytes(name string) []byte { return f[name] }
func (f files) Get(name string) string      { return string(f[name]) }

func (f files) Lines(name string) []string {
	s := strings.TrimSuffix(string(f[name]), "\n")
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "\n")
}

func (f files) Glob(pattern string) files {
	out := files{}
	for name, data := range f {
		if ok, _ := path.Match(pattern, name); ok {
			out[name] = data
		}
	}
	return out
}

func (f files) sortedNames() []string {
	names := make([]string, 0, len(f))
	for n := range f {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (f files) AsConfig() string {
	m := map[string]string{}
	for _, n := range f.sortedNames() {
		m[path.Base(n)] = string(f[n])
	}
	return toYAML(m)
}

func (f files) AsSecrets() string {
	m := map[string]string{}
	for _, n := range f.sortedNames() {
		m[path.Base(n)] = base64.StdEncoding.EncodeToString(f[n])
	}
	return toYAML(m)
}

// ---- the engine

type engine struct {
	set       *template.Template
	depth     int
	chartName string
}

const maxIncludeDepth = 1000

func (e *engine) funcs() template.FuncMap {
	fm := sprig.TxtFuncMap()
	delete(fm, "env")
	delete(fm, "expandenv")
	extra := template.FuncMap{
		"toYaml":        toYAML,
		"fromYaml":      fromYAML,
		"fromYamlArray": fromYAMLArray,
		"toJson":        toJSON,
		"fromJson":      fromJSON,
		"fromJsonArray": fromJSONArray,
		"toToml": func(interface{}) (string, error) {
			return "", errors.New("toToml is not supported by this renderer")
		},
		"include": e.include,
		"tpl":     e.tpl,
		"required": func(msg string, v interface{}) (interface{}, error) {
			if v == nil {
				return nil, errors.New(msg)
			}
			if s, ok := v.(string); ok && s == "" {
				return nil, errors.New(msg)
			}
			return v, nil
		},
		"lookup": func(apiVersion, kind, namespace, name string) (map[string]interface{}, error) {
			return map[string]interface{}{}, nil
		},
	}
	for k, v := range extra {
		fm[k] = v
	}
	return fm
}

func (e *engine) include(name string, data interface{}) (string, error) {
	if e.depth >= maxIncludeDepth {
		return "", fmt.Errorf("include %q: nesting deeper than %d", name, maxIncludeDepth)
	}
	e.depth++
	defer func() { e.depth-- }()
	var buf bytes.Buffer
	if err := e.set.ExecuteTemplate(&buf, name, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// tpl renders text as a template that sees every named template of the
// chart, with data as its dot; the caller's .Template is kept as in Helm.
func (e *engine) tpl(text string, data interface{}) (string, error) {
	clone, err := e.set.Clone()
	if err != nil {
		return "", err
	}
	t, err := clone.New(e.chartName + "/tpl").Parse(text)
	if err != nil {
		return "", fmt.Errorf("tpl: %v", err)
	}
	saved := e.set
	e.set = clone
	defer func() { e.set = saved }()
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return "", fmt.Errorf("tpl: %v", err)
	}
	return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
}

func listTemplates(dir string) ([]string, error) {
	var names []string
	root := filepath.Join(dir, "templates")
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !info.IsDir() {
			rel, _ := filepath.Rel(root, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(names)
	return names, err
}

func run(o options) (string, error) {
	chart, err := readChart(o.chartDir)
	if err != nil {
		return "", err
	}
	chartName := chart["Name"].(string)
	vals, err := buildValues(o)
	if err != nil {
		return "", err
	}
	caps, err := capabilities(o)
	if err != nil {
		return "", err
	}
	fs, err := readFiles(o.chartDir)
	if err != nil {
		return "", err
	}
	names, err := listTemplates(o.chartDir)
	if err != nil {
		return "", err
	}

	e := &engine{chartName: chartName}
	e.set = template.New(chartName).Funcs(e.funcs()).Option("missingkey=zero")
	for _, n := range names {
		src, err := os.ReadFile(filepath.Join(o.chartDir, "templates", n))
		if err != nil {
			return "", err
		}
		full := chartName + "/templates/" + n
		if _, err := e.set.New(full).Parse(string(src)); err != nil {
			return "", err
		}
	}

	base := map[string]interface{}{
		"Values": vals,
		"Release": map[string]interface{}{
			"Name": o.release, "Namespace": o.namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Chart":        chart,
		"Capabilities": caps,
		"Files":        fs,
	}

	var out strings.Builder
	for _, n := range names {
		isNotes := n == "NOTES.txt"
		if strings.HasPrefix(path.Base(n), "_") || isNotes != o.notes {
			continue
		}
		full := chartName + "/templates/" + n
		data := map[string]interface{}{}
		for k, v := range base {
			data[k] = v
		}
		data["Template"] = map[string]interface{}{
			"Name": full, "BasePath": chartName + "/templates",
		}
		var buf bytes.Buffer
		if err := e.set.ExecuteTemplate(&buf, full, data); err != nil {
			return "", err
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if isNotes {
			out.WriteString(text)
			continue
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", full, strings.TrimRight(text, "\n"))
	}
	return out.String(), nil
}
