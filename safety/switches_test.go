package safety

import "testing"

// Earlier versions kept the switches in the runs bucket, whose TTL deletes them. A dry-run
// that was on there stays on after the upgrade, is copied where nothing expires it, and a
// switch set in the new place since wins over the old value.
func TestSwitchesMigrateFromTheOldPlaceOnce(t *testing.T) {
	g := newGuards(t, 1)[0]
	ctx := t.Context()
	if _, err := g.state.Put(ctx, switchKey(SwitchDryRun), []byte("on")); err != nil {
		t.Fatal(err)
	}
	if _, err := g.state.Put(ctx, switchKey(SwitchKill), []byte("on")); err != nil {
		t.Fatal(err)
	}
	if err := g.SetSwitch(ctx, SwitchKill, false); err != nil { // turned off since, in the new place
		t.Fatal(err)
	}
	if s, err := g.Switches(ctx); err != nil || !s.DryRun || s.Kill {
		t.Fatalf("after the upgrade: %+v, %v (want dry-run on from the old place, kill off from the new)", s, err)
	}
	if err := g.state.Delete(ctx, switchKey(SwitchDryRun)); err != nil { // the old place expires
		t.Fatal(err)
	}
	if s, _ := g.Switches(ctx); !s.DryRun {
		t.Error("the dry-run went with the old place's expiry: it was never copied")
	}
}
