using System.Net.Http.Json;
using Anchor.Orleans.Testing;
using Microsoft.Playwright;

namespace Anchor.Orleans.Api.Tests.Live;

/// <summary>Its own silo: the switch trips for everyone on it.</summary>
public sealed class LiveEmergencyFixture : LiveFixture;

/// <summary>An emergency stop ends every live view within five seconds.</summary>
public sealed class LiveEmergencyTests(LiveEmergencyFixture fixture) : IClassFixture<LiveEmergencyFixture>
{
    [Fact]
    public async Task EmergencyStop_EndsAnOpenView_WithinFiveSeconds()
    {
        var (_, sessionId) = await fixture.OpenSessionAsync();
        var viewer = await fixture.OpenViewerAsync(await fixture.LinkAsync(sessionId));
        using var ops = fixture.Host.CreateClient(TestKeys.Operator);

        using var trip = await ops.PostAsJsonAsync("/api/emergency-shutdown", new { reason = "live drill" }, TestContext.Current.CancellationToken);
        trip.EnsureSuccessStatusCode();
        try
        {
            await Assertions.Expect(viewer.Locator("body")).ToHaveAttributeAsync("data-state", "ended", new() { Timeout = 5_000 });
        }
        finally
        {
            using var reset = await ops.DeleteAsync("/api/emergency-shutdown", TestContext.Current.CancellationToken);
        }
    }
}
