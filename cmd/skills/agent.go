package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/skillsdev/skills/agent"
	"github.com/skillsdev/skills/agent/hosttools"
	"github.com/skillsdev/skills/agent/model"
	"github.com/skillsdev/skills/audit"
	"github.com/skillsdev/skills/host"
	"github.com/skillsdev/skills/marketplace/install"
	"github.com/skillsdev/skills/reload"
	"github.com/skillsdev/skills/reload/overlay"
)

// agentFlags are the flags of `skills agent`.
type agentFlags struct {
	model, workspace, audit string
	maxTurns, maxDepth      int
	watch, asJSON           bool
	allowTools, allowHosts  []string
}

func newAgentCmd(a *app) *cobra.Command {
	var f agentFlags
	cmd := &cobra.Command{
		Use:   "agent [TASK] [flags]",
		Short: "Run the agent loop with the installed skills as its tools",
		Long: `agent gives TASK to a model whose tools are the skills installed in
$SKILLS_HOME (skills.lock) plus the dev overlay (folders registered by a running
` + "`skills dev`" + `, which take the place of an installed skill of the same name). Each turn
the model sees every loaded skill's name, description and ## Input schema, and
its tool calls run through the host with all of its policy. Tool errors and
denials go back to the model as error results; the run ends when the model
answers without calling a tool, or when a budget (--max-turns) runs out.

Models (--model): offline (default; a deterministic heuristic router, not a
language model: it calls the one tool that best matches the task), scripted:FILE
(replays a JSON script), openai:MODEL (OPENAI_BASE_URL, OPENAI_API_KEY; also
Ollama, vLLM, llama.cpp servers) and anthropic:MODEL (ANTHROPIC_API_KEY).

Host tools: a skill may call only the host tools its allowed-tools lists, and
of those only the ones allowed here with --allow-tool (read_file, write_file,
http_get, now, ...): every other host tool is denied. http_get reaches only the
hosts given with --allow-host. read_file and write_file see only --workspace.

--watch keeps running: it reads tasks from stdin, one per line (after TASK, if
given), until end of input or Ctrl-C, and reloads skills as they change: an
install, upgrade or uninstall (skills.lock), a refreshed registry index (a new
deprecation), a ` + "`skills dev`" + ` folder registered, edited or removed. A changed skill
is rebuilt when its sources are newer than its module, loaded and warmed off
to the side and swapped in between two turns; calls in flight finish on the old
version. A version that fails (compile error, bad SKILL.md, hash mismatch, trap
on warm-up) is reported and the old one keeps serving.

Events (run.start, turn.start, model.call, tool.start, tool.end, tool.denied,
tool.error, skill.reloaded, skill.reload_failed, skill.removed,
skill.deprecated_call, budget.exceeded, run.end, ...) stream live: one line
each on stderr, or as JSON lines on stdout with --json, where the answer
follows as {"type":"result",...}. --audit FILE appends them to a SHA-256 hash
chain that ` + "`skills audit verify FILE`" + ` checks.

Exit status: 0 when every task got an answer, 1 when a run failed (a budget
ran out, the model failed), 2 for a usage error.`,
		Example: `  skills agent "count the words of notes.md" --workspace . --allow-tool read_file
  skills agent --watch --audit run.jsonl --allow-tool read_file,now < tasks.txt
  skills agent "summarize notes.md" --model scripted:demo.json --json`,
		Args: args(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			task := strings.TrimSpace(strings.Join(args, " "))
			if task == "" && !f.watch {
				return usageError{errors.New("agent: give a TASK, or --watch to read tasks from stdin")}
			}
			return runAgent(cmd.Context(), a, f, task)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.model, "model", model.Default, "offline, scripted:FILE, openai:MODEL or anthropic:MODEL")
	fl.StringVar(&f.workspace, "workspace", ".", "the only folder read_file and write_file may touch")
	fl.IntVar(&f.maxTurns, "max-turns", agent.DefaultMaxTurns, "most model calls per task")
	fl.IntVar(&f.maxDepth, "max-depth", host.DefaultMaxDepth, "maximum depth of nested skill calls")
	fl.StringVar(&f.audit, "audit", "", "append the events to this hash-chained JSON lines file")
	fl.BoolVar(&f.watch, "watch", false, "keep running: tasks from stdin, one per line; skills reload as they change")
	fl.BoolVar(&f.asJSON, "json", false, "events as JSON lines on stdout, then the answer as {\"type\":\"result\",...}")
	fl.StringSliceVar(&f.allowTools, "allow-tool", nil, "host tools skills may call (repeatable or comma-separated); all others are denied")
	fl.StringSliceVar(&f.allowHosts, "allow-host", nil, "host names http_get may reach (repeatable)")
	return cmd
}

func runAgent(ctx context.Context, a *app, f agentFlags, task string) (err error) {
	if f.maxTurns <= 0 || f.maxDepth <= 0 {
		return usageError{errors.New("agent: --max-turns and --max-depth must be at least 1")}
	}
	m, err := model.New(f.model)
	if err != nil {
		return usageError{err}
	}
	home, err := a.homeDir()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(home, 0o755); err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	workspace, err := filepath.Abs(f.workspace)
	if err != nil {
		return fmt.Errorf("agent: workspace: %w", err)
	}

	log := audit.NewWriter(nil)
	if f.audit != "" {
		if log, err = audit.OpenFile(f.audit); err != nil {
			return err
		}
	}
	defer func() {
		if cerr := log.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("agent: close %s: %w", f.audit, cerr)
		}
	}()
	out := &agentOutput{stdout: a.stdout, stderr: a.stderr, json: f.asJSON}
	session, err := agent.NewRecorder(agent.RecorderOptions{Log: log, OnEvent: out.event})
	if err != nil {
		return err
	}
	route := &eventRoute{session: session, warn: a.stderr}

	allow := f.allowTools
	if allow == nil {
		allow = []string{} // deny every host tool not allowed on the command line
	}
	h, err := host.New(ctx, host.Options{
		Home: home, Workspace: workspace, MaxDepth: f.maxDepth, AllowHosts: f.allowHosts, AllowTools: allow,
		Logger: a.logger(), Observer: route.hostEvent,
	})
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		h.Close(cctx)
	}()
	r, err := reload.New(reload.Options{
		Host:    h,
		Sources: func(ctx context.Context) ([]host.Source, error) { return agentSources(ctx, a, home) },
		Dirs: []string{home, filepath.Join(home, install.StoreDir), filepath.Join(home, overlay.Dir),
			filepath.Join(home, "registries")},
		OnEvent: route.reloadEvent,
		Logger:  a.logger(),
	})
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := r.Reload(ctx); err != nil {
		return err
	}
	if len(h.Skills()) == 0 {
		fmt.Fprintln(a.stderr, "skills: no skills loaded: install some with `skills install NAME`, or register a folder with `skills dev DIR`")
	}
	tools := hosttools.New(h)
	runTask := func(task string) error {
		rec, err := agent.NewRecorder(agent.RecorderOptions{Log: log, OnEvent: out.event})
		if err != nil {
			return err
		}
		route.set(rec)
		defer route.set(nil)
		res, err := agent.Run(ctx, m, tools, task, agent.Options{Recorder: rec, MaxTurns: f.maxTurns})
		return out.result(res, err)
	}
	if !f.watch {
		return runTask(task)
	}

	wctx, stop := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() { defer close(watched); r.Run(wctx) }()
	defer func() { stop(); <-watched }()
	failed := 0
	try := func(task string) {
		if err := runTask(task); err != nil {
			failed++
			fmt.Fprintf(a.stderr, "skills: %v\n", err)
		}
	}
	if task != "" {
		try(task)
	}
	for line := range lines(ctx, a.stdin) {
		if t := strings.TrimSpace(line); t != "" {
			try(t)
		}
	}
	if failed > 0 {
		return exitError{code: 1, err: fmt.Errorf("agent: %d task(s) failed", failed)}
	}
	return nil
}

// agentSources is the agent's skill set: the installed skills (with the
// registries' deprecations when they can be read) with the dev overlay over
// them.
func agentSources(ctx context.Context, a *app, home string) ([]host.Source, error) {
	installed, err := installedSources(ctx, a, home)
	if err != nil {
		return nil, err
	}
	return overlay.Overlay(home, installed)
}

// lines yields the lines of r until its end or ctx's. The reader goroutine
// may outlive the loop when ctx ends first (stdin cannot be interrupted).
func lines(ctx context.Context, r io.Reader) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		ch := make(chan string)
		go func() {
			defer close(ch)
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				select {
				case ch <- sc.Text():
				case <-ctx.Done():
					return
				}
			}
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case l, ok := <-ch:
				if !ok || !yield(l) {
					return
				}
			}
		}
	}
}

// eventRoute sends events from the host and the reloader into the run in
// progress, or into the session's recorder between runs, so that each lands
// in the audit chain next to what it affected.
type eventRoute struct {
	mu      sync.Mutex
	run     *agent.Recorder
	session *agent.Recorder
	warn    io.Writer
}

func (r *eventRoute) set(rec *agent.Recorder) {
	r.mu.Lock()
	r.run = rec
	r.mu.Unlock()
}

func (r *eventRoute) emit(typ string, data any) {
	r.mu.Lock()
	rec := r.run
	if rec == nil {
		rec = r.session
	}
	r.mu.Unlock()
	if _, err := rec.Emit(typ, data); err != nil {
		fmt.Fprintf(r.warn, "skills: %v\n", err)
	}
}

// hostEvent records what the host reports: calls of deprecated skills (the
// host is the one place that sees every call, nested ones too) and denials
// inside skills. Its reload events are left to the reloader, which knows
// the old version and the build.
func (r *eventRoute) hostEvent(e host.Event) {
	switch e.Type {
	case "skill.reloaded", "skill.reload_failed", "skill.removed":
		return
	}
	data := make(map[string]any, len(e.Data)+1)
	for k, v := range e.Data {
		data[k] = v
	}
	data["skill"] = e.Skill
	r.emit(e.Type, data)
}

func (r *eventRoute) reloadEvent(e reload.Event) { r.emit(e.Type, e) }

// agentOutput shows events and answers: events on stderr for people, or
// everything as JSON lines on stdout.
type agentOutput struct {
	mu             sync.Mutex
	stdout, stderr io.Writer
	json           bool
}

func (o *agentOutput) event(e audit.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.json {
		io.WriteString(o.stderr, audit.Format(e)+"\n")
		return
	}
	b, err := json.Marshal(e)
	if err == nil {
		o.stdout.Write(append(b, '\n'))
	}
}

// result prints a run's answer and returns its error.
func (o *agentOutput) result(res agent.Result, runErr error) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.json {
		r := struct {
			Type      string `json:"type"`
			RunID     string `json:"run_id"`
			Content   string `json:"content"`
			Turns     int    `json:"turns"`
			ToolCalls int    `json:"tool_calls"`
			Error     string `json:"error,omitempty"`
		}{Type: "result", RunID: res.RunID, Content: res.Content, Turns: res.Turns, ToolCalls: res.ToolCalls}
		if runErr != nil {
			r.Error = runErr.Error()
		}
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := o.stdout.Write(append(b, '\n')); err != nil {
			return err
		}
		return runErr
	}
	if res.Content != "" {
		if _, err := io.WriteString(o.stdout, strings.TrimRight(res.Content, "\n")+"\n"); err != nil {
			return err
		}
	}
	return runErr
}
