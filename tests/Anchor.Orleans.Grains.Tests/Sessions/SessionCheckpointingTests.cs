using System.Text;
using Anchor.Orleans.Grains.Browser;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Sessions;
using Anchor.Orleans.Grains.Sessions.Billing;
using Anchor.Orleans.Grains.Sessions.Lifetime;
using Anchor.Orleans.Grains.Sessions.Moves;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static Anchor.Orleans.Grains.Tests.Sessions.SessionTestParts;

namespace Anchor.Orleans.Grains.Tests.Sessions;

/// <summary>
/// A session's checkpoints on a fake clock, without a browser: spacing of background writes, a hurried last write for a
/// move, what is kept (encrypted) and read back, and forgetting.
/// </summary>
public sealed class SessionCheckpointingTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private static readonly PageCheckpoint Taken = new(["https://a.test/?token=x", "about:blank"], 1, 800, 600, "{\"cookies\":[]}");

    private readonly FakeTimeProvider _time = new(T0);
    private readonly Storage<SessionCheckpoint> _state = new();
    private readonly List<(bool Ok, int Bytes)> _recorded = [];
    private readonly SessionAccount _account;
    private readonly SessionLifetime _lifetime;
    private readonly Page _page;
    private IPageCheckpoints? _hosted;

    public SessionCheckpointingTests()
    {
        _account = new SessionAccount("s1", new Budget(), new Fixed<PricingOptions>(new PricingOptions()));
        _account.Open("c1", T0, 0.25m);
        _account.Charge(2, 0.004m);
        _lifetime = new SessionLifetime(_time, new Fixed<SessionsOptions>(new SessionsOptions()));
        _lifetime.Begin(T0.AddMinutes(5));
        _page = new Page(_time, Taken);
        _hosted = _page;
    }

    private SessionCheckpointing NewCheckpointing(IDataProtectionProvider? keys = null, bool durable = true, int maxBytes = 256 * 1024) =>
        new("s1", _state, keys ?? new EphemeralDataProtectionProvider(), new Fixed<SessionsOptions>(new SessionsOptions { CheckpointMaxBytes = maxBytes }),
            durable, () => _hosted, _account, _lifetime, (ok, _, bytes) => _recorded.Add((ok, bytes)), _time, NullLogger.Instance);

    [Fact]
    public async Task Request_WritesAtOnce_ThenAtMostOncePerSpacing()
    {
        var checkpoints = NewCheckpointing();

        checkpoints.Request();
        await checkpoints.AwaitAsync();
        _time.Advance(TimeSpan.FromMilliseconds(300));
        checkpoints.Request();
        checkpoints.Request(); // Folded into the same next write.
        _time.Advance(TimeSpan.FromMilliseconds(699));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await checkpoints.AwaitAsync();

        Assert.Equal([T0, T0 + SessionCheckpointing.Spacing], _page.ReadAt);
        Assert.Equal((2, T0 + SessionCheckpointing.Spacing), (_state.Writes, _state.State.TakenAt));
    }

    [Fact]
    public async Task WriteFinal_HurriesAWriteWaitingOutItsSpacing_AndWritesNoMore()
    {
        var checkpoints = NewCheckpointing();
        checkpoints.Request();
        await checkpoints.AwaitAsync();
        _time.Advance(TimeSpan.FromMilliseconds(300));
        checkpoints.Request();

        var kept = await checkpoints.WriteFinalAsync(_page);

        Assert.True(kept);
        Assert.Equal([T0, T0.AddMilliseconds(300)], _page.ReadAt);
        Assert.Equal(2, _state.Writes);
    }

    [Fact]
    public async Task Request_WritesNothing_WithStorageThatDiesWithTheProcess()
    {
        var checkpoints = NewCheckpointing(durable: false);

        checkpoints.Request();
        await checkpoints.AwaitAsync();

        Assert.Equal((0, false), (_state.Writes, _state.State.Exists));
    }

    [Fact]
    public async Task Write_KeepsFiguresAndAnEncryptedPage_ThatReadsBack()
    {
        var checkpoints = NewCheckpointing();
        checkpoints.LossRestores = 1;

        var written = await checkpoints.WriteAsync(_page);
        var saved = _state.State;
        var (page, missing) = checkpoints.Read(saved);

        Assert.True(written);
        Assert.Equal(("c1", T0, T0.AddMinutes(5), 2, 0.004m, 0.25m, 1, T0), (saved.ClientId, saved.OpenedAt, saved.ExpiresAt, saved.Actions, saved.ActionsUsd, saved.ReservedUsd, saved.LossRestores, saved.TakenAt));
        Assert.DoesNotContain("token", saved.ProtectedTabs!, StringComparison.Ordinal);
        Assert.NotEqual(Taken.StorageState, saved.StorageState);
        Assert.Equal(Taken.Tabs, page.Tabs);
        Assert.Equal((1, 800, 600, Taken.StorageState), (page.CurrentTab, page.ViewportWidth, page.ViewportHeight, page.StorageState));
        Assert.Empty(missing);
        Assert.Equal([(true, Encoding.UTF8.GetByteCount(Taken.StorageState!))], _recorded);
    }

    [Fact]
    public async Task Write_LeavesOutStorageOverTheLimit_AndTheReadSaysSo()
    {
        var checkpoints = NewCheckpointing(maxBytes: 1_024);
        var big = new Page(_time, Taken with { StorageState = new string('x', 1_025) });
        _hosted = big;

        await checkpoints.WriteAsync(big);
        var (page, missing) = checkpoints.Read(_state.State);

        Assert.Equal((true, (string?)null, (string?)null), (_state.State.StorageOmitted, _state.State.StorageState, page.StorageState));
        Assert.Equal(["cookies and storage were not kept: they exceeded Sessions:CheckpointMaxBytes (1024 bytes)"], missing);
        Assert.Equal([(true, 0)], _recorded);
    }

    [Fact]
    public async Task Read_WithAnotherKeyRing_RestoresOneBlankTab_AndSaysWhatWasLost()
    {
        await NewCheckpointing().WriteAsync(_page);

        var (page, missing) = NewCheckpointing(new EphemeralDataProtectionProvider()).Read(_state.State);

        Assert.Empty(page.Tabs);
        Assert.Null(page.StorageState);
        Assert.Equal(
            [
                "cookies and storage could not be decrypted (the Data Protection key ring changed) and were not restored",
                "the tabs' URLs could not be decrypted (the Data Protection key ring changed); one blank tab was opened",
            ],
            missing);
    }

    [Fact]
    public async Task Write_KeepsNothing_WhenTheSessionEndedDuringTheRead()
    {
        var checkpoints = NewCheckpointing();
        _hosted = null;

        var written = await checkpoints.WriteAsync(_page);

        Assert.Equal((false, 0), (written, _state.Writes));
        Assert.Empty(_recorded);
    }

    [Fact]
    public async Task Forget_ClearsAStoredCheckpoint_Once()
    {
        var checkpoints = NewCheckpointing();
        await checkpoints.WriteAsync(_page);

        await checkpoints.ForgetAsync();
        await checkpoints.ForgetAsync();

        Assert.Equal((1, false), (_state.Clears, _state.State.Exists));
    }
}
