using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Grains.Budgets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Anchor.Orleans.Api.Budgets;

/// <summary><c>GET /api/budget</c>: today's and this month's spend, limits, utilization, per-client spend, forecast.</summary>
public static class BudgetApi
{
    public static IEndpointRouteBuilder MapBudgetApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGroup("/api/budget").RequireAuthorization(AuthPolicies.Operator)
            .MapGet("/", async Task<Ok<BudgetOverview>> (BudgetStatus budgets, CancellationToken cancellationToken) =>
                TypedResults.Ok(await budgets.GetOverviewAsync(cancellationToken)));
        return endpoints;
    }
}
