package runbooks

import (
	"fmt"
	"path"

	"github.com/alaya-sre/alaya/inventory"
	"github.com/expr-lang/expr/vm"
)

// render makes the plan's Step for the resolved hosts.
func (d *stepDef) render(machine *vm.VM, env *Env, hosts []*inventory.Host) (Step, error) {
	st := Step{
		Name: d.name, Kind: d.kind, Mutating: d.mutating, Timeout: d.timeout,
		ContinueOnError: d.continueOnError, When: d.whenSrc, Report: d.report,
	}
	if d.when != nil {
		st.when = &compiled{prog: d.when, env: *env}
	}
	if d.gate != nil {
		g := *d.gate
		st.Gate = &g
		return st, nil
	}
	tenv := &TemplateEnv{Env: *env}
	for _, h := range hosts {
		tenv.Host = hostEnv(h)
		if err := d.renderHost(machine, tenv, h.Name, &st); err != nil {
			return st, fmt.Errorf("host %s: %w", h.Name, err)
		}
	}
	return st, nil
}

func (d *stepDef) renderHost(machine *vm.VM, env *TemplateEnv, host string, st *Step) error {
	switch d.kind {
	case KindRun:
		cmd, err := d.run.render(machine, env)
		if err != nil {
			return err
		}
		setMap(&st.Commands, host, cmd)
	case KindCollect:
		paths, err := d.renderPaths(machine, env)
		if err != nil {
			return err
		}
		setMap(&st.Paths, host, paths)
	default:
		params, err := d.renderParams(machine, env)
		if err != nil {
			return err
		}
		setMap(&st.Action, host, params)
	}
	return nil
}

func (d *stepDef) renderPaths(machine *vm.VM, env *TemplateEnv) ([]string, error) {
	out := make([]string, 0, len(d.collect))
	for _, t := range d.collect {
		p, err := t.renderValue(machine, env)
		if err != nil {
			return nil, err
		}
		if err := checkValue("collect", p); err != nil {
			return nil, err
		}
		if !path.IsAbs(p) || path.Clean(p) != p {
			return nil, fmt.Errorf("collect: %q is not a clean absolute path", clipName(p))
		}
		out = append(out, p)
	}
	return out, nil
}

func (d *stepDef) renderParams(machine *vm.VM, env *TemplateEnv) (map[string]string, error) {
	out := make(map[string]string, len(d.params))
	for _, p := range d.params {
		v := p.value
		var err error
		switch {
		case p.tmpl != nil && p.shell:
			v, err = p.tmpl.render(machine, env)
		case p.tmpl != nil:
			v, err = p.tmpl.renderValue(machine, env)
			if err == nil {
				err = checkValue(p.key, v)
			}
		}
		if err != nil {
			return nil, err
		}
		out[p.key] = v
	}
	return out, nil
}

func setMap[V any](m *map[string]V, k string, v V) {
	if *m == nil {
		*m = map[string]V{}
	}
	(*m)[k] = v
}
