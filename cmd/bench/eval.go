package main

import (
	"fmt"
	"math"
)

// Results of a row.
const (
	resultPass   = "PASS"
	resultMiss   = "MISS"
	resultReport = "report"
	resultError  = "ERROR"
)

// row is a measure evaluated against the results of its group.
type row struct {
	M                  measure
	Value, Base, Ratio float64
	HasBase, HasRatio  bool
	Result             string
	Err                error
	Notes              []string
}

// evaluate reads m's numbers out of r and checks them against m's target.
func evaluate(m measure, r results) row {
	rw := row{M: m}
	if m.MedianRun.Bench != "" {
		r = r.atMedianRun(m.MedianRun.Bench, m.MedianRun.Unit)
	}
	fail := func(err error) row {
		rw.Result, rw.Err = resultError, err
		return rw
	}
	var err error
	if rw.Value, err = m.Value(r); err != nil {
		return fail(err)
	}
	if m.Base != nil {
		if rw.Base, err = m.Base(r); err != nil {
			return fail(err)
		}
		rw.HasBase = true
	}
	switch {
	case m.Ratio != nil:
		if rw.Ratio, err = m.Ratio(r); err != nil {
			return fail(err)
		}
		rw.HasRatio = true
	case rw.HasBase && rw.Base != 0:
		rw.Ratio, rw.HasRatio = rw.Value/rw.Base, true
	}
	if m.Notes != nil {
		rw.Notes = m.Notes(r)
	}
	t := m.Target
	if t.reportOnly() {
		rw.Result = resultReport
		return rw
	}
	if (t.MaxRatio != 0 || t.MinRatio != 0) && !rw.HasRatio {
		return fail(fmt.Errorf("%s: target is a ratio, but there is no baseline", m.ID))
	}
	ok := !math.IsNaN(rw.Value) &&
		(t.MaxValue == 0 || rw.Value <= t.MaxValue) &&
		(t.MaxRatio == 0 || rw.Ratio <= t.MaxRatio) &&
		(t.MinRatio == 0 || rw.Ratio >= t.MinRatio) &&
		(!t.ZeroValue || rw.Value == 0)
	rw.Result = resultMiss
	if ok {
		rw.Result = resultPass
	}
	return rw
}

// cells formats a row for a table: value, baseline, ratio.
func (rw row) cells() (value, base, ratio string) {
	if rw.Err != nil {
		return "-", "-", "-"
	}
	f := rw.M.Fmt
	if f == nil {
		f = fmtDur
	}
	value, base, ratio = f(rw.Value), "-", "-"
	if rw.HasBase {
		base = f(rw.Base) + " (" + rw.M.BaseName + ")"
	}
	if rw.HasRatio {
		ratio = fmt.Sprintf("%.2fx", rw.Ratio)
	}
	return value, base, ratio
}
