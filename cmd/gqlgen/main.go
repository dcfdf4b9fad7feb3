// Command gqlgen is gqlgen's code generator with our plugin, inline: make generate
// runs it. It generates graph/ as `gqlgen generate` does, with changes that take
// goroutines and allocations out of the execution of a query (BENCHMARKS.md
// measures what they cost):
//
//   - The objects named in inlineObjects resolve their fields one after the other
//     in the goroutine that marshals the object, as gqlgen does for the Mutation
//     type, instead of a goroutine for each field with a resolver whenever two or
//     more are asked. The plugin sets that (codegen.Object.DisableConcurrency)
//     before gqlgen writes the executor.
//   - Lists of objects go through their elements in order (gqlexec.MarshalSlice,
//     which says when it still goes concurrent) instead of a goroutine each.
//     gqlgen offers no setting for that: its template calls
//     graphql.MarshalSliceConcurrently for every list of objects, and a plugin's
//     hooks all run before the template. So the plugin rewrites that one call, by
//     syntax tree, in the file gqlgen has just written.
//   - An object's marshaler starts with graphql.NewDeferredGroup(ctx), which builds
//     the object's path, a field set and a map for the fields a query @defers. Where
//     the object's marshaler never adds one (the schema declares no @defer, so none
//     does), the group stays empty: the rewrite makes it the zero DeferredGroup,
//     which the marshaler's only other uses (its len(deferred.Defers), then
//     ProcessDeferredGroup, which returns at once) read the same; where one may add
//     a field, the group is built only when the object has a deferred field. That
//     was a tenth of a conversation page's allocations.
//   - A scalar field read from a struct field takes a direct path to its value
//     (direct.go: the scalar's marshaler on the field) in front of gqlgen's
//     ResolveField, whose field context, interceptor chain, recover and closures
//     were half of a page's allocations; an object or list read from a struct
//     field, and a resolver without arguments, take a lean path: ResolveField's
//     own steps without the interceptor chain and the closures, their field
//     context and its context one allocation (gqlexec.WithFieldContext). The server
//     registers no field interceptor (server/graphql.go refuses one). Where the
//     scalar has an allocation-free twin (at.go: gqlexec.StringAt, scalar.TimeAt…)
//     the direct path points it at the struct field instead of boxing a copy.
//   - An object's resolver fields run at once in the object's goroutine while they
//     are quick (lane.go, gqlexec.Lane), instead of each being a task for the
//     object's Dispatch: a closure, a wrapper and a task list per field.
//   - An object's marshaler returns gqlexec.Object, which writes the same JSON as
//     gqlgen's FieldSet without a map and a copy of each field per object.
//   - An object's marshaler collects its fields through a cache of the operation's
//     (gqlexec.Collected, a field the rewrite adds to executionContext) keyed
//     without the allocations of gqlgen's key.
//   - A list marshaler answers an empty list with gqlexec.EmptyArray before it
//     builds a closure and an array for no element.
//   - A query's or mutation's answer is written into a buffer sized from the
//     operation's last answer (gqlexec.ResponseSize) instead of one doubling
//     from 64 bytes.
//
// make check-generated proves the committed graph/ is this command's output.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
	"golang.org/x/tools/go/ast/astutil"
)

// inlineObjects are the objects whose fields never wait for one another, with why.
// A field that waits for a dataloader's batch would wait alone here, one after the
// other: only an object whose resolvers read what the object already holds belongs
// in this list.
var inlineObjects = map[string]string{
	// A conversation of a list, of conversation(id) and of conversationUpdated
	// carries its summary (contact, newest message, unread count: one statement
	// with the conversation, resolvers/gql/connections.go and queries.go); its
	// other resolver fields compute from the row (cursor, channel, chatWindow) or
	// are a single loader read (assignee, labels: primed by lists).
	"Conversation": "its resolvers read the summary that came with it",
}

// inline is the plugin: it marks inlineObjects before gqlgen writes the executor,
// and notes the fields that may take the direct path (directFields).
type inline struct{ direct map[string]bool }

func (*inline) Name() string { return "inline" }

// GenerateCode implements plugin.CodeGenerator; gqlgen calls it with the data the
// executor is written from.
func (p *inline) GenerateCode(data *codegen.Data) error {
	p.direct = directFields(data)
	found := 0
	for _, obj := range data.Objects {
		if _, ok := inlineObjects[obj.Name]; ok {
			obj.DisableConcurrency = true
			found++
		}
	}
	if found != len(inlineObjects) {
		return fmt.Errorf("inlineObjects names %d objects; the schema has %d of them", len(inlineObjects), found)
	}
	return nil
}

// gqlexecPath is the import path of the run-time half of the plugin.
const gqlexecPath = "github.com/connectme/connectme/gqlexec"

func main() {
	configFile := flag.String("config", "gqlgen.yml", "gqlgen's configuration")
	flag.Parse()
	if err := generate(*configFile); err != nil {
		fmt.Fprintln(os.Stderr, "gqlgen:", err)
		os.Exit(1)
	}
}

func generate(configFile string) error {
	cfg, err := config.LoadConfig(configFile)
	if err != nil {
		return err
	}
	p := &inline{}
	if err := api.Generate(cfg, api.AddPlugin(p)); err != nil {
		return err
	}
	n, err := inlineLists(cfg.Exec.Filename, p.direct)
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.Exec.Filename, err)
	}
	for what, count := range map[string]int{
		"call of graphql.MarshalSliceConcurrently": n.lists,
		"graphql.NewDeferredGroup(ctx)":            n.groups,
		"object's `return out`":                    n.objects,
		"direct scalar field":                      n.direct,
		"response buffer":                          n.responses,
		"list marshaler":                           n.empty,
		"graphql.CollectFields of an object":       n.collect,
		"object's resolver field":                  n.lanes,
	} {
		if count == 0 {
			return fmt.Errorf("%s: no %s to rewrite; has gqlgen's template changed?", cfg.Exec.Filename, what)
		}
	}
	return nil
}

// rewrites counts what inlineLists rewrote.
type rewrites struct{ lists, groups, objects, direct, responses, empty, collect, lanes int }

// inlineLists replaces each call of graphql.MarshalSliceConcurrently in the Go file
// by gqlexec.MarshalSlice (same arguments, same answer), each object's deferred
// group (emptyDeferredGroups) and its final return (objectReturns), and gives the
// direct fields their direct path (directScalars); it reports how many of each it
// rewrote, and leaves a file with none of them untouched.
func inlineLists(file string, direct map[string]bool) (rewrites, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
	if err != nil {
		return rewrites{}, err
	}
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		call, ok := node.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "graphql" && sel.Sel.Name == "MarshalSliceConcurrently" {
			if len(call.Args) != 5 {
				err = fmt.Errorf("graphql.MarshalSliceConcurrently takes %d arguments here; gqlexec.MarshalSlice takes 5", len(call.Args))
				return false
			}
			pkg.Name, sel.Sel.Name = "gqlexec", "MarshalSlice"
			n++
		}
		return true
	})
	if err != nil {
		return rewrites{lists: n}, err
	}
	done := rewrites{lists: n, groups: emptyDeferredGroups(f), objects: objectReturns(f), responses: sizedResponses(f),
		empty: emptyLists(f), collect: collectedFields(f), lanes: laneFields(f)}
	if done.direct, err = directScalars(f, direct); err != nil {
		return done, err
	}
	if done == (rewrites{}) {
		return done, nil
	}
	astutil.AddImport(fset, f, gqlexecPath)
	var out bytes.Buffer
	if err := format.Node(&out, fset, f); err != nil {
		return done, err
	}
	return done, os.WriteFile(file, out.Bytes(), 0o644)
}

// emptyDeferredGroups replaces `deferred := graphql.NewDeferredGroup(ctx)` by the
// zero graphql.DeferredGroup in each function whose only other uses of deferred
// are len(deferred.Defers) and ProcessDeferredGroup(deferred); in the others (which
// may add the object's @defer'd fields to it) by gqlexec.DeferredGroup(ctx, fields),
// which builds the group only when one of the object's collected fields is
// deferred. It reports how many it replaced.
func emptyDeferredGroups(f *ast.File) int {
	n := 0
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		var init *ast.AssignStmt
		uses, known, hasFields := 0, 0, false
		ast.Inspect(fn.Body, func(node ast.Node) bool {
			switch x := node.(type) {
			case *ast.Ident:
				if x.Name == "deferred" {
					uses++
				}
			case *ast.AssignStmt:
				if len(x.Lhs) == 1 && isIdent(x.Lhs[0], "fields") && x.Tok == token.DEFINE {
					hasFields = true
				}
				if len(x.Lhs) == 1 && len(x.Rhs) == 1 && isIdent(x.Lhs[0], "deferred") && isCall(x.Rhs[0], "graphql", "NewDeferredGroup") {
					init = x
					known++
				}
			case *ast.CallExpr:
				if isIdent(x.Fun, "len") && len(x.Args) == 1 {
					if sel, ok := x.Args[0].(*ast.SelectorExpr); ok && isIdent(sel.X, "deferred") && sel.Sel.Name == "Defers" {
						known++
					}
				}
				if sel, ok := x.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "ProcessDeferredGroup" && len(x.Args) == 1 && isIdent(x.Args[0], "deferred") {
					known++
				}
			}
			return true
		})
		if init == nil {
			continue
		}
		if uses == known {
			init.Rhs[0] = &ast.CompositeLit{Type: &ast.SelectorExpr{X: ast.NewIdent("graphql"), Sel: ast.NewIdent("DeferredGroup")}}
		} else if hasFields {
			// Fields may be added (ResolveConcurrently adds the object's @defer'd
			// fields): the group is built only when one of the object's fields is.
			call := init.Rhs[0].(*ast.CallExpr)
			call.Fun = &ast.SelectorExpr{X: ast.NewIdent("gqlexec"), Sel: ast.NewIdent("DeferredGroup")}
			call.Args = append(call.Args, ast.NewIdent("fields"))
		} else {
			continue
		}
		n++
	}
	return n
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func isCall(e ast.Expr, pkg, name string) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	return ok && isIdent(sel.X, pkg) && sel.Sel.Name == name
}
