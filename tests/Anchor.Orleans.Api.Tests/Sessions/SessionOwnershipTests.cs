using System.Text.Json;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Interfaces.Budgets;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Anchor.Orleans.Api.Tests.Sessions;

/// <summary>
/// A hostile tenant naming another client's session. Session ids are predictable (a default session is
/// <c>default-&lt;client id&gt;</c>), and that is fine: ownership is checked where the state lives, so every tool that
/// takes a <c>session_id</c> answers the intruder <c>session_not_found</c> and changes nothing — not the session, its
/// lease, its reservation nor its listing.
/// </summary>
public sealed class SessionOwnershipTests(BrowserAppFixture fixture) : IClassFixture<BrowserAppFixture>
{
    // A silo address no cluster member has: the registry takes its leases for lost ones (of a silo that died).
    private const string DeadSilo = "127.0.0.1:1@1";
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private IGrainFactory Grains => fixture.Host.Services.GetRequiredService<IGrainFactory>();

    private ISessionRegistryGrain Registry => Grains.GetGrain<ISessionRegistryGrain>(0);

    [Fact]
    public async Task EveryToolWithASessionId_NamingAnotherClientsLiveSession_IsSessionNotFound_AndChangesNothing()
    {
        var owner = await fixture.ConnectAsync(TestKeys.Agent);
        var intruder = await fixture.ConnectAsync(TestKeys.OtherAgent);
        var opened = await owner.CallAsync("browser_navigate", new { url = fixture.Site.Url("/a") });
        Assert.True(opened.IsError != true, opened.Text());
        var victim = $"default-{TestKeys.AgentClient}";
        var before = await StandingAsync(owner, victim);

        var tools = (await intruder.ListToolsAsync(cancellationToken: Ct)).Where(t => TakesSessionId(t.ProtocolTool)).ToList();
        var answers = new Dictionary<string, string>();
        foreach (var tool in tools)
        {
            var result = await intruder.CallAsync(tool.Name, ArgumentsFor(tool.ProtocolTool, victim));
            answers[tool.Name] = result.IsError == true ? result.Text() : $"(not an error) {result.Text()}";
        }

        var after = await StandingAsync(owner, victim);
        var stillThere = await owner.CallAsync("browser_snapshot");

        // Every browser tool, the profile save and both closes: the catalogue has at least these.
        Assert.Contains("browser_navigate", answers.Keys);
        Assert.Contains("browser_profile_save", answers.Keys);
        Assert.Contains("browser_session_close", answers.Keys);
        Assert.Contains("browser_close", answers.Keys);
        Assert.All(answers, a => Assert.StartsWith($"session_not_found: no session '{victim}' for this client", a.Value, StringComparison.Ordinal));
        Assert.Equal(before, after);
        Assert.True(stillThere.IsError != true, stillThere.Text());
        Assert.Contains(fixture.Site.Url("/a"), stillThere.Text(), StringComparison.Ordinal);

        await owner.CallAsync("browser_close");
    }

    [Fact]
    public async Task AnotherClient_NamingALostSessionsLease_ChangesNothing_AndOnlyTheOwnerLearnsOfTheLoss()
    {
        // A lease whose silo died: the state the intruder used to end (and bill) by merely asking about it.
        var session = $"s-lost-{Guid.NewGuid():N}";
        Assert.True((await Registry.AcquireAsync(session, TestKeys.AgentClient, DeadSilo, maxPerClient: 5, Ct)).Granted);
        var owner = await fixture.ConnectAsync(TestKeys.Agent);
        var intruder = await fixture.ConnectAsync(TestKeys.OtherAgent);
        var before = await StandingAsync(owner, session);

        var snapshot = await intruder.CallAsync("browser_snapshot", new { session_id = session });
        var save = await intruder.CallAsync("browser_profile_save", new { name = "stolen", session_id = session });
        var close = await intruder.CallAsync("browser_session_close", new { session_id = session });
        var after = await StandingAsync(owner, session);
        var ownerCall = await owner.CallAsync("browser_snapshot", new { session_id = session });

        Assert.StartsWith($"session_not_found: no session '{session}' for this client", snapshot.Text(), StringComparison.Ordinal);
        Assert.StartsWith($"session_not_found: no session '{session}' for this client", save.Text(), StringComparison.Ordinal);
        Assert.Equal($"{{\"session_id\":\"{session}\",\"closed\":false}}", close.Text());
        Assert.Equal(before, after);
        Assert.Contains(after.Leases, l => l.SessionId == session);
        Assert.StartsWith($"session_expired: session '{session}' ended at ", ownerCall.Text(), StringComparison.Ordinal);
        Assert.EndsWith("(lost); create a new session.", ownerCall.Text(), StringComparison.Ordinal);
        Assert.Null(await Registry.GetEndedAsync(session, TestKeys.OtherAgentClient));
    }

    /// <summary>What the owner has: its leases, its listing, its day's spend and reservation, and how sessions ended.</summary>
    private async Task<Standing> StandingAsync(McpClient owner, string sessionId)
    {
        var leases = await Registry.ListAsync(TestKeys.AgentClient);
        var listed = (await owner.CallAsync("browser_session_list")).Text();
        var ledger = Grains.GetGrain<IBudgetLedgerGrain>(BudgetPeriods.Day(fixture.Host.Services.GetRequiredService<TimeProvider>().GetUtcNow()));
        var mine = (await ledger.GetClientTotalsAsync(TestKeys.AgentClient, Ct)).Clients.GetValueOrDefault(TestKeys.AgentClient);
        var stats = await Registry.GetStatsAsync();
        return new Standing(
            [.. leases.Where(l => l.SessionId == sessionId)],
            listed.Contains(sessionId, StringComparison.Ordinal),
            mine?.SpentUsd ?? 0,
            mine?.ReservedUsd ?? 0,
            stats.Active,
            string.Join(',', stats.EndedByReason.OrderBy(e => e.Key).Select(e => $"{e.Key}={e.Value}")));
    }

    private static bool TakesSessionId(Tool tool) =>
        tool.InputSchema.TryGetProperty("properties", out var properties) && properties.TryGetProperty("session_id", out _);

    /// <summary>Arguments a well-formed call of <paramref name="tool"/> would carry, addressed to <paramref name="sessionId"/>.</summary>
    private Dictionary<string, object?> ArgumentsFor(Tool tool, string sessionId)
    {
        var arguments = new Dictionary<string, object?> { ["session_id"] = sessionId };
        var properties = tool.InputSchema.GetProperty("properties");

        // Arguments a tool checks itself (aliases and shapes the schema cannot say are required).
        if (properties.TryGetProperty("target", out _))
        {
            arguments["target"] = "e1";
        }

        switch (tool.Name)
        {
            case "browser_drop":
                arguments["data"] = new Dictionary<string, object?> { ["text/plain"] = "x" };
                break;
            case "browser_fill_form":
                arguments["fields"] = new object[] { new Dictionary<string, object?> { ["name"] = "q", ["type"] = "textbox", ["target"] = "e1", ["value"] = "x" } };
                break;
            case "browser_file_upload":
                arguments["files"] = new object[] { new Dictionary<string, object?> { ["name"] = "a.txt", ["content"] = "eA==" } };
                break;
            case "browser_extract":
                arguments["fields"] = new Dictionary<string, object?> { ["title"] = "h1" };
                break;
            case "browser_run_task":
                arguments["steps"] = new object[] { new Dictionary<string, object?> { ["action"] = "navigate", ["url"] = fixture.Site.Url("/b") } };
                break;
        }

        if (!tool.InputSchema.TryGetProperty("required", out var required))
        {
            return arguments;
        }

        foreach (var name in required.EnumerateArray().Select(r => r.GetString()!).Where(n => !arguments.ContainsKey(n)))
        {
            var schema = properties.GetProperty(name);
            var type = schema.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : "string";
            arguments[name] = (name, type) switch
            {
                ("url", _) => fixture.Site.Url("/b"),
                ("name", _) => "stolen",
                (_, "integer" or "number") => 1,
                (_, "boolean") => false,
                (_, "array") => name == "steps" ? new object[] { new Dictionary<string, object?> { ["tool"] = "browser_snapshot" } } : new object[] { "x" },
                (_, "object") => new Dictionary<string, object?>(),
                _ => schema.TryGetProperty("enum", out var values) ? values[0].GetString() : "e1",
            };
        }

        return arguments;
    }

    private sealed record Standing(SessionLease[] Leases, bool Listed, decimal SpentUsd, decimal ReservedUsd, int Active, string Ended)
    {
        public bool Equals(Standing? other) =>
            other is not null && Leases.SequenceEqual(other.Leases) && Listed == other.Listed && SpentUsd == other.SpentUsd
            && ReservedUsd == other.ReservedUsd && Active == other.Active && Ended == other.Ended;

        public override int GetHashCode() => HashCode.Combine(Leases.Length, Listed, SpentUsd, ReservedUsd, Active, Ended);
    }
}
