using Anchor.Orleans.Api.Auth;

namespace Anchor.Orleans.Testing;

/// <summary>API keys the tests use: the published development keys, and keys for production-like hosts.</summary>
public static class TestKeys
{
    public const string DevAgent = DevelopmentApiKeys.Agent;
    public const string DevAgentClient = "dev-agent";
    public const string DevOperator = DevelopmentApiKeys.Operator;
    public const string DevOperatorClient = "dev-operator";

    public const string Agent = "test-agent-key-5f0c2b7e91";
    public const string AgentClient = "agent-a";
    public const string OtherAgent = "test-agent-key-b-77d1e3a4";
    public const string OtherAgentClient = "agent-b";
    public const string Operator = "test-operator-key-3a9d6c10";
    public const string OperatorClient = "ops";

    /// <summary>Configuration that installs the non-development test keys (allowed in every environment).</summary>
    public static Dictionary<string, string?> Settings() => new()
    {
        ["Anchor:Auth:ApiKeys:0:ClientId"] = AgentClient,
        ["Anchor:Auth:ApiKeys:0:Key"] = Agent,
        ["Anchor:Auth:ApiKeys:0:Role"] = "Agent",
        ["Anchor:Auth:ApiKeys:1:ClientId"] = OtherAgentClient,
        ["Anchor:Auth:ApiKeys:1:Key"] = OtherAgent,
        ["Anchor:Auth:ApiKeys:1:Role"] = "Agent",
        ["Anchor:Auth:ApiKeys:2:ClientId"] = OperatorClient,
        ["Anchor:Auth:ApiKeys:2:KeySha256"] = ApiKeyHash.HexOf(Operator),
        ["Anchor:Auth:ApiKeys:2:Role"] = "Operator",
    };
}
