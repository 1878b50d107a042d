using System.Text.Json;
using System.Text.Json.Nodes;
using Anchor.Orleans.Api.Mcp;
using Anchor.Orleans.Testing;
using Json.Schema;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Anchor.Orleans.Api.Tests.Mcp;

/// <summary>
/// Structured results with the C# SDK client: the tools that answer with JSON declare an <c>outputSchema</c> and answer
/// with <c>structuredContent</c> that validates against it and equals their text item's JSON; the others answer text only.
/// </summary>
public sealed class StructuredResultsTests(BrowserAppFixture fixture) : IClassFixture<BrowserAppFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private static readonly string[] JsonTools =
    [
        "browser_extract", "browser_handoff", "browser_profile_delete", "browser_profile_list", "browser_profile_save", "browser_run_task",
        "browser_session_close", "browser_session_create", "browser_session_list", "budget_status",
    ];

    public static TheoryData<string?> Revisions => new(null, McpTestClient.InitializeRevision);

    [Theory]
    [MemberData(nameof(Revisions))]
    public async Task OutputSchemas_AreDeclared_ExactlyByTheJsonTools(string? revision)
    {
        await using var client = await McpTestClient.ConnectAsync(fixture.Host.BaseAddress, TestKeys.Agent, protocolVersion: revision);

        var tools = await client.ListToolsAsync(cancellationToken: Ct);

        Assert.Equal(JsonTools, tools.Where(t => t.ProtocolTool.OutputSchema is not null).Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.All(tools.Where(t => t.ProtocolTool.OutputSchema is not null), t => Assert.Equal("object", t.ProtocolTool.OutputSchema!.Value.GetProperty("type").GetString()));
    }

    [Theory]
    [MemberData(nameof(Revisions))]
    public async Task EveryJsonTool_AnswersStructuredContent_ValidAgainstItsSchema_AndEqualToItsText(string? revision)
    {
        await using var client = await McpTestClient.ConnectAsync(fixture.Host.BaseAddress, TestKeys.Agent, protocolVersion: revision);
        var schemas = (await client.ListToolsAsync(cancellationToken: Ct))
            .Where(t => t.ProtocolTool.OutputSchema is not null)
            .ToDictionary(t => t.Name, t => JsonSchema.FromText(t.ProtocolTool.OutputSchema!.Value.GetRawText()));
        var created = await client.CallAsync("browser_session_create");
        var session = created.Json().GetProperty("session_id").GetString();
        // A session of its own to hand over: a person holding it would hold up the other calls' actions.
        var handedOver = (await client.CallAsync("browser_session_create")).Json().GetProperty("session_id").GetString();
        var profile = $"structured-{revision ?? "newest"}";
        var fields = new Dictionary<string, string> { ["name"] = "h2", ["price"] = ".price" };

        List<(string Tool, CallToolResult Result)> results =
        [
            ("browser_session_create", created),
            ("browser_extract", await client.CallAsync("browser_extract", new { url = fixture.Site.Url("/list"), item_selector = "li.item", fields, session_id = session })),
            ("browser_run_task", await client.CallAsync("browser_run_task", new
            {
                url = fixture.Site.Url("/list"),
                session_id = session,
                steps = new object[] { new { action = "extract", item_selector = "li.item", fields }, new { action = "click", target = "#does-not-exist" } },
            })),
            ("browser_session_list", await client.CallAsync("browser_session_list")),
            ("budget_status", await client.CallAsync("budget_status")),
            ("browser_profile_save", await client.CallAsync("browser_profile_save", new { name = profile, session_id = session })),
            ("browser_profile_list", await client.CallAsync("browser_profile_list")),
            ("browser_profile_delete", await client.CallAsync("browser_profile_delete", new { name = profile })),
            ("browser_handoff", await client.CallAsync("browser_handoff", new { reason = "Structured results.", session_id = handedOver })),
            ("browser_session_close", await client.CallAsync("browser_session_close", new { session_id = session })),
        ];
        await client.CallAsync("browser_session_close", new { session_id = handedOver });

        Assert.Equal(JsonTools, results.Select(r => r.Tool).Order(StringComparer.Ordinal));
        foreach (var (tool, result) in results)
        {
            Assert.True(result.IsError != true, $"{tool}: {result.Text()}");
            var structured = Assert.IsType<JsonElement>(result.StructuredContent);
            Assert.True(JsonElement.DeepEquals(result.Json(), structured), $"{tool}: {structured.GetRawText()} is not {result.Text()}");
            var evaluation = schemas[tool].Evaluate(JsonNode.Parse(structured.GetRawText()), new EvaluationOptions { OutputFormat = OutputFormat.List });
            Assert.True(evaluation.IsValid, $"{tool}: {Errors(evaluation)}");
        }
    }

    [Fact]
    public async Task Schemas_RejectAnAnswerOfAnotherShape()
    {
        var client = await fixture.ConnectAsync();
        var tools = await client.ListToolsAsync(cancellationToken: Ct);
        var create = JsonSchema.FromText(tools.Single(t => t.Name == "browser_session_create").ProtocolTool.OutputSchema!.Value.GetRawText());

        var valid = create.Evaluate(JsonNode.Parse("""{"session_id":"s-1","expires_at":"2026-12-03T16:00:00+00:00"}"""));
        var numbered = create.Evaluate(JsonNode.Parse("""{"session_id":1,"expires_at":"2026-12-03T16:00:00+00:00"}"""));
        var camel = create.Evaluate(JsonNode.Parse("""{"sessionId":"s-1","expiresAt":"2026-12-03T16:00:00+00:00"}"""));

        Assert.Equal((true, false, false), (valid.IsValid, numbered.IsValid, camel.IsValid));
    }

    [Fact]
    public async Task PageAnswers_StayText()
    {
        var (client, session) = await fixture.OpenSessionAsync();

        var navigated = await client.CallAsync("browser_navigate", new { url = fixture.Site.Url("/list"), session_id = session });
        var snapshot = await client.CallAsync("browser_snapshot", new { session_id = session });
        await client.CallAsync("browser_session_close", new { session_id = session });

        Assert.Equal((false, false), (navigated.IsError == true, snapshot.IsError == true));
        Assert.Equal(((JsonElement?)null, (JsonElement?)null), (navigated.StructuredContent, snapshot.StructuredContent));
    }

    [Fact]
    public void StructuredContent_IsTheAnswersLastLine_AfterANoteOfARestore()
    {
        const string Json = """{"steps":[{"action":"navigate","ok":true,"ms":12,"error":null}]}""";
        CallToolResult Answer(string text, bool error = false) => new() { IsError = error, Content = [new TextContentBlock { Text = text }] };

        var restored = StructuredResults.JsonOf(Answer($"The session moved to another silo.\n- its tab was reopened\n\n{Json}"));
        var plain = StructuredResults.JsonOf(Answer(Json));
        var failed = StructuredResults.JsonOf(Answer("timeout: browser_run_task did not answer in time.", error: true));
        var prose = StructuredResults.JsonOf(Answer("Browser closed."));

        Assert.Equal((Json, Json), (restored?.GetRawText(), plain?.GetRawText()));
        Assert.Equal(((JsonElement?)null, (JsonElement?)null), (failed, prose));
    }

    private static string Errors(EvaluationResults evaluation) => string.Join("; ", (evaluation.Details ?? [])
        .Where(d => d.Errors is { Count: > 0 })
        .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));
}
