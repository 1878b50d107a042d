using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Anchor.Orleans.Testing;

namespace Anchor.Orleans.Cluster.Tests;

/// <summary>The chaos drill script, run for real against a running silo (its own, since it trips the switch).</summary>
public sealed class ChaosDrillTests(BrowserAppFixture fixture) : IClassFixture<BrowserAppFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task ChaosDrill_TripsRefusesClosesAndResets()
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Repository.PathOf("scripts", "chaos-drill.sh"));
        start.Environment["ANCHOR_URL"] = fixture.Host.BaseAddress.ToString();
        start.Environment["ANCHOR_OPERATOR_KEY"] = TestKeys.Operator;
        start.Environment["DRILL_REASON"] = "drill from the test suite";

        using var drill = Process.Start(start)!;
        using var killOnTimeout = Ct.Register(() => drill.Kill(entireProcessTree: true));
        var output = drill.StandardOutput.ReadToEndAsync(Ct);
        var errors = drill.StandardError.ReadToEndAsync(Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        timeout.Token.Register(() => drill.Kill(entireProcessTree: true));
        await drill.WaitForExitAsync(Ct);

        Assert.True(drill.ExitCode == 0, await output + await errors);
        Assert.Contains("drill passed: work refused, sessions closed, switch reset, work admitted again", await output, StringComparison.Ordinal);
        var state = await fixture.Host.CreateClient(TestKeys.Operator).GetFromJsonAsync<JsonElement>("/api/emergency-shutdown", Ct);
        Assert.False(state.GetProperty("tripped").GetBoolean());
    }

}
