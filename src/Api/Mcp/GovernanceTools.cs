using System.ComponentModel;
using Anchor.Orleans.Grains.Budgets;
using Anchor.Orleans.Grains.Clients;
using Anchor.Orleans.Grains.Tools;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Anchor.Orleans.Api.Mcp;

/// <summary>What an agent may ask about its own allowance.</summary>
[McpServerToolType]
public sealed class GovernanceTools(BudgetStatus budgets, ClientPolicies policies)
{
    [ToolFacts(Free = true)]
    [McpServerTool(Name = "budget_status", Title = "Budget and rate-limit status", ReadOnly = true, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("Shows your usage and what is left: tool calls remaining in the rate-limit window (and when it resets), and your daily and monthly spend, reservations, limits and remaining budget in USD, and whether the cluster-wide budget (not yours) is what limits you now. Check it before long tasks.")]
    public Task<BudgetStatusReport> StatusAsync(RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken = default) =>
        budgets.GetForClientAsync(policies.For(ToolContext.ClientIdOf(context.User)), cancellationToken);
}
