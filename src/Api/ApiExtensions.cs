using System.Text.Json;
using Anchor.Orleans.Api.Alerts;
using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Api.Budgets;
using Anchor.Orleans.Api.OperatorConsole;
using Anchor.Orleans.Api.Dashboard;
using Anchor.Orleans.Api.EmergencyStop;
using Anchor.Orleans.Api.Governance;
using Anchor.Orleans.Api.Health;
using Anchor.Orleans.Api.Live;
using Anchor.Orleans.Api.Logging;
using Anchor.Orleans.Api.Mcp;
using Anchor.Orleans.Api.OpenApi;
using Anchor.Orleans.Api.Operations;
using Anchor.Orleans.Api.Problems;
using Anchor.Orleans.Api.Recording;
using Anchor.Orleans.Api.Profiles;
using Anchor.Orleans.Api.RequestLimits;
using Anchor.Orleans.Api.Sessions;
using Anchor.Orleans.Api.Status;
using Anchor.Orleans.Api.Telemetry;
using Anchor.Orleans.Api.Timeline;
using Anchor.Orleans.Grains.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Anchor.Orleans.Api;

public static class ApiExtensions
{
    /// <summary>The HTTP front: auth, problem details, health, status and the features' endpoints.</summary>
    public static IHostApplicationBuilder AddAnchorApi(this IHostApplicationBuilder builder)
    {
        builder.AddAnchorLogging();
        builder.AddAnchorTelemetry();
        var services = builder.Services;
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
        services.AddAnchorProblemDetails();
        services.AddAnchorRequestLimits();
        services.AddAnchorAuth();
        services.AddAnchorHealth();
        services.AddAnchorGovernanceApi();
        services.AddAnchorOptions<TelemetryOptions>(TelemetryOptions.SectionName);
        services.AddAnchorOptions<MetricsOptions>(MetricsOptions.SectionName);
        services.AddSingleton<ProcessClock>();
        services.AddHttpContextAccessor();
        services.AddAnchorMcp();
        services.AddAnchorLive();
        services.AddAnchorOpenApi();
        services.AddAnchorConsole();
        return builder;
    }

    public static WebApplication MapAnchorApi(this WebApplication app)
    {
        app.UseAnchorProblemDetails();
        // Before routing, so /sse and /message are routed as the MCP group's endpoints.
        app.UseLegacySsePaths();
        app.UseRouting();
        app.UseAnchorRequestLimits();
        app.UseAuthentication();
        app.UseRequestLogScope();
        app.UseAuthorization();
        app.UseMcpContentTypeCheck();
        app.UseMcpRequestAdmission();
        app.UseDashboardSiloAddressCheck();
        // After authorization: only authenticated agents reach the transport-session grains.
        app.UseMcpSessionGate();

        app.MapAnchorHealth();
        app.MapStatusApi();
        app.MapAnchorMcp();
        app.MapSessionsApi();
        app.MapTimelineApi();
        app.MapRecordingApi();
        app.MapLiveApi();
        app.MapProfilesApi();
        app.MapOperationsApi();
        app.MapAnchorMetrics();
        app.MapAnchorDashboard();
        app.MapEmergencyShutdownApi();
        app.MapBudgetApi();
        app.MapGovernanceApi();
        app.MapAlertsApi();
        app.MapAnchorConsole();
        app.MapAnchorOpenApi();
        return app;
    }
}
