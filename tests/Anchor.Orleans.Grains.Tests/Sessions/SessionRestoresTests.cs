using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Sessions;
using Anchor.Orleans.Grains.Sessions.Moves;
using static Anchor.Orleans.Grains.Tests.Sessions.SessionTestParts;

namespace Anchor.Orleans.Grains.Tests.Sessions;

/// <summary>The rules of a restore: how a session moved, when it is no longer rebuilt, and the note its next answer carries.</summary>
public sealed class SessionRestoresTests
{
    private static SessionLease Lease(decimal? parkedCostUsd) => new("s1", "c1", "127.0.0.1:1@1", T0, T0.AddMinutes(5)) { ParkedCostUsd = parkedCostUsd };

    [Fact]
    public void MayRestore_RefusesASessionLostMoreThanTheLimit_ButNotADrainedOne()
    {
        var twice = new SessionCheckpoint { ClientId = "c1", LossRestores = SessionRestores.MaxLossRestores };
        var once = new SessionCheckpoint { ClientId = "c1", LossRestores = SessionRestores.MaxLossRestores - 1 };

        Assert.Equal(("lost", "drained"), (SessionRestores.How(Lease(null)), SessionRestores.How(Lease(0.01m))));
        Assert.Equal((false, true, true), (SessionRestores.MayRestore("lost", twice), SessionRestores.MayRestore("lost", once), SessionRestores.MayRestore("drained", twice)));
    }

    [Fact]
    public void Note_SaysWhyAndWhatWasNotRestored()
    {
        var note = SessionRestores.Note(new SessionRestored("drained", T0, 2, ["tab 1 (https://b.test/) could not be reopened: x"]));

        Assert.Equal(
            "### Session restored\nThis session moved to another silo (its silo was shut down) and was rebuilt from its checkpoint of 2026-03-02T10:00:00.0000000+00:00: "
            + "2 tab(s) reopened at their URLs, cookies and localStorage restored. Form input that was not submitted and in-page script state were not kept. "
            + "Element refs from before are no longer valid: take a new browser_snapshot.\nNot restored:\n- tab 1 (https://b.test/) could not be reopened: x",
            note);
    }
}
