using Anchor.Orleans.Grains.EmergencyStop;
using Anchor.Orleans.Grains.Interfaces.Alerts;
using Anchor.Orleans.Grains.Interfaces.EmergencyStop;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Anchor.Orleans.Grains.Tests.EmergencyStop;

[Collection(ClusterCollection.Name)]
public sealed class EmergencyStopGrainTests(ClusterFixture fixture)
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private IEmergencyStopGrain Switch => fixture.Grains.GetGrain<IEmergencyStopGrain>(0);

    [Fact]
    public async Task Trip_IsRecordedAlertedPushedAndClosesSessions_ThenResetReopens()
    {
        var at = await fixture.FreshMonthAsync();
        var view = fixture.Service<EmergencyStopView>();
        var before = await Switch.GetStateAsync(Ct);
        var sweeps = ClusterFixture.Closer.Calls;
        ClusterFixture.Closer.FailuresLeft = 1;
        try
        {
            var tripped = await Switch.TripAsync("runaway agent", "ops-1", Ct);
            var again = await Switch.TripAsync("second reason", "ops-2", Ct);

            Assert.Equal(
                before with
                {
                    Tripped = true,
                    Reason = "runaway agent",
                    TrippedBy = "ops-1",
                    TrippedAt = at,
                    ResetBy = null,
                    ResetAt = null,
                    Version = before.Version + 1,
                    Audit = [.. before.Audit, new EmergencyAuditEntry("trip", "ops-1", "runaway agent", at)],
                },
                tripped);
            Assert.Equal(tripped, again);
            var alert = Assert.Single(ClusterFixture.Alerts.With(EmergencyStopGrain.AlertKey), a => a.At == at);
            Assert.Equal(AlertSeverity.Critical, alert.Severity);
            Assert.Equal("Emergency shutdown tripped by ops-1: runaway agent. Every silo refuses new work and every session is being closed.", alert.Message);

            await Poll.UntilAsync(() => view.State?.Version == tripped.Version, TimeSpan.FromSeconds(1), "the silo view to be pushed the trip");
            Assert.Equal("emergency_shutdown: runaway agent (tripped by ops-1 at " + at.ToString("O") + ")", view.RefusalReason());

            // First sweep fails (registry away), the retry a second later succeeds, one more sweep a second after that.
            await Poll.UntilAsync(() => ClusterFixture.Closer.Calls == sweeps + 1, TimeSpan.FromSeconds(5), "the first sweep");
            await AdvanceUntilSweptAsync(sweeps + 2, "the retried sweep");
            await AdvanceUntilSweptAsync(sweeps + 3, "the confirming sweep");
            ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
            await view.RefreshAsync(Ct);
            Assert.Equal(sweeps + 3, ClusterFixture.Closer.Calls);
        }
        finally
        {
            var reset = await Switch.ResetAsync("ops-2", Ct);
            Assert.False(reset.Tripped);
            Assert.Equal("ops-2", reset.ResetBy);
            Assert.Equal(new EmergencyAuditEntry("reset", "ops-2", null, ClusterFixture.Time.GetUtcNow()), reset.Audit[^1]);
            await Poll.UntilAsync(() => view.State?.Version == reset.Version, TimeSpan.FromSeconds(1), "the silo view to be pushed the reset");
            Assert.Null(view.RefusalReason());
            Assert.Equal(AlertSeverity.Resolved, ClusterFixture.Alerts.With(EmergencyStopGrain.AlertKey)[^1].Severity);
        }
    }

    /// <summary>
    /// Moves fake time a sweep interval on until the closer has been called <paramref name="calls"/> times. The grain's
    /// timer arms its next tick only when the sweep's callback has returned, a moment after the closer counted the
    /// call: time moved before that is not seen by the tick, so move it again (at most five times) until it comes.
    /// The sweeps' count stays exact however far time goes: the switch sweeps twice after a trip, plus its retries.
    /// </summary>
    private static async Task AdvanceUntilSweptAsync(int calls, string what)
    {
        for (var attempt = 1; ; attempt++)
        {
            ClusterFixture.Time.Advance(TimeSpan.FromSeconds(1));
            try
            {
                await Poll.UntilAsync(() => ClusterFixture.Closer.Calls == calls, TimeSpan.FromSeconds(2), what);
                return;
            }
            catch (TimeoutException) when (attempt < 5)
            {
            }
        }
    }

    [Fact]
    public async Task Trip_WithoutAReason_IsRefused()
    {
        var error = await Assert.ThrowsAsync<AnchorException>(() => Switch.TripAsync(" ", "ops", Ct));
        Assert.Equal(ErrorCodes.InvalidArgument, error.Code);
        Assert.False((await Switch.GetStateAsync(Ct)).Tripped);
    }

    [Fact]
    public async Task View_FailsClosed_BeforeItHearsAndAfterStaleAfterSeconds()
    {
        var time = new FakeTimeProvider(ClusterFixture.Time.GetUtcNow());
        var options = new StaticOptions(new EmergencyStopOptions { RefreshSeconds = 2, StaleAfterSeconds = 10 });
        var view = new EmergencyStopView(fixture.Grains, new ServiceCollection().BuildServiceProvider(), time, options, NullLogger<EmergencyStopView>.Instance);

        Assert.Equal("emergency_shutdown: the state of the emergency switch is not known yet on this silo; refusing work until it is.", view.RefusalReason());
        await view.RefreshAsync(Ct);
        Assert.Null(view.RefusalReason());

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Null(view.RefusalReason());
        time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal("emergency_shutdown: this silo has not heard from the emergency switch for 10 s (limit 10 s); refusing work until it does.", view.RefusalReason());
        Assert.Equal(ErrorCodes.EmergencyShutdown, Assert.Throws<AnchorException>(view.ThrowIfRefusing).Code);

        await view.RefreshAsync(Ct);
        Assert.Null(view.RefusalReason());
    }

    private sealed class StaticOptions(EmergencyStopOptions value) : IOptionsMonitor<EmergencyStopOptions>
    {
        public EmergencyStopOptions CurrentValue => value;

        public EmergencyStopOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<EmergencyStopOptions, string?> listener) => null;
    }
}
