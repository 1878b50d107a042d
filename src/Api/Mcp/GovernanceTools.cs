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
    [McpServerTool(Name = "budget_status", Title = "Budget and rate-limit status", ReadOnly = true, Idempotent = true, OpenWorld = false)]
    [Description("Shows your usage and what is left: tool calls remaining in the rate-limit window (and when it resets), and your daily and monthly spend, reservations, limits and remaining budget in USD, and whether the cluster-wide budget (not yours) is what limits you now. Check it before long tasks.")]
    public async Task<CallToolResult> StatusAsync(RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken = default)
    {
        var report = await budgets.GetForClientAsync(policies.For(ToolContext.ClientIdOf(context.User)), cancellationToken);
        return ToolResults.Json(new
        {
            client_id = report.ClientId,
            at = report.At,
            rate_limit = new
            {
                limit = report.RateLimit.Limit,
                remaining = report.RateLimit.Remaining,
                window_seconds = report.RateLimit.WindowSeconds,
                reset_at = report.RateLimit.ResetAt,
                retry_after_seconds = report.RateLimit.RetryAfterSeconds,
            },
            daily = Period(report.Daily),
            monthly = Period(report.Monthly),
        });
    }

    private static object Period(PeriodBudgetStatus p) => new { period = p.Period, client = Usage(p.Client), limited_by_cluster = p.LimitedByCluster };

    private static object Usage(BudgetUsage u) => new { spent_usd = u.SpentUsd, reserved_usd = u.ReservedUsd, limit_usd = u.LimitUsd, remaining_usd = u.RemainingUsd };
}
