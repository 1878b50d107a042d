using System.Diagnostics;
using System.Reflection;
using Anchor.Orleans.Api.Auth;
using Anchor.Orleans.Grains.EmergencyStop;
using Anchor.Orleans.Grains.Interfaces.Sessions;
using Anchor.Orleans.Grains.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace Anchor.Orleans.Api.Status;

/// <summary>What an operator asks first: which build, how long up, how many silos.</summary>
public sealed record StatusResponse(
    string Environment,
    string Version,
    DateTimeOffset StartedAt,
    double UptimeSeconds,
    string Silo,
    int Silos,
    int ActiveSessions,
    int ActiveSessionsOnThisSilo,
    EmergencySwitchStatus EmergencySwitch);

/// <summary>The emergency switch as this silo sees it; <see cref="Refusing"/> also covers a stale view.</summary>
public sealed record EmergencySwitchStatus(bool Tripped, bool Refusing, string? Reason);

/// <summary>When this process started, as the operating system recorded it (not when something first asked).</summary>
public sealed class ProcessClock
{
    public DateTimeOffset StartedAt { get; } = ProcessStart();

    private static DateTimeOffset ProcessStart()
    {
        using var process = Process.GetCurrentProcess();
        return new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero);
    }
}

public static class StatusApi
{
    public static readonly string Version =
        typeof(StatusApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static IEndpointRouteBuilder MapStatusApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/status", GetStatusAsync).RequireAuthorization(AuthPolicies.Operator);
        return endpoints;
    }

    private static async Task<Ok<StatusResponse>> GetStatusAsync(
        IHostEnvironment environment, ProcessClock clock, TimeProvider time, IGrainFactory grains, ILocalSiloDetails silo, LocalSessions local, EmergencyStopView emergency)
    {
        var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        var sessions = await grains.GetGrain<ISessionRegistryGrain>(0).ListAsync();
        return TypedResults.Ok(new StatusResponse(
            environment.EnvironmentName,
            Version,
            clock.StartedAt,
            Math.Round((time.GetUtcNow() - clock.StartedAt).TotalSeconds, 1),
            silo.SiloAddress.ToParsableString(),
            hosts.Count,
            sessions.Count,
            local.Count,
            new EmergencySwitchStatus(emergency.State?.Tripped ?? false, emergency.RefusalReason() is not null, emergency.RefusalReason())));
    }
}
