using System.Net;
using Anchor.Orleans.Api.Logging;
using Anchor.Orleans.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Anchor.Orleans.Api.Tests.Hosting;

public sealed class LoggingTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Logs_CarryRequestAndClientScope_AndNeverTheKey()
    {
        const string wrongKey = "wrong-key-that-must-not-be-logged-7731";
        await using var host = await AnchorAppHost.StartAsync(TestKeys.Settings());

        using var forbidden = await host.CreateClient(TestKeys.Agent).GetAsync("/status", Ct);
        using var unauthorized = await host.CreateClient(wrongKey).GetAsync("/status", Ct);
        using var ok = await host.CreateClient(TestKeys.Operator).GetAsync("/status", Ct);

        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var requestId = forbidden.Headers.GetValues("X-Request-Id").Single();
        var denial = Assert.Single(host.Logs.Entries, e => e.Category == "Microsoft.AspNetCore.Authorization.DefaultAuthorizationService" && Equals(e.Scope("request_id"), requestId));
        Assert.Equal(TestKeys.AgentClient, denial.Scope("client_id"));

        var everything = host.Logs.AllText;
        foreach (var secret in new[] { TestKeys.Agent, TestKeys.Operator, TestKeys.OtherAgent, wrongKey })
        {
            Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Redaction_MasksConfiguredSecrets_InMessagesAndStructuredValues()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Anchor:Auth:ApiKeys:0:Key"] = "agent-secret-key-1234",
            ["Anchor:Alerts:Slack:WebhookUrl"] = "https://hooks.example.test/T000/B000/sekrit",
            ["Anchor:Redis:ConnectionString"] = "redis:6379,password=redis-pass-5678,ssl=true",
            ["Anchor:Sessions:MaxConcurrent"] = "5",
        }).Build();
        var capture = new LogCapture();
        using var provider = new RedactingLoggerProvider(capture, new SecretValues(configuration));
        var logger = provider.CreateLogger("test");

        logger.LogWarning("Posting to {Url} with key {Key}", "https://hooks.example.test/T000/B000/sekrit", "agent-secret-key-1234");
        logger.LogError("Redis said: auth failed for redis-pass-5678");

        Assert.Equal(
            ["Posting to [REDACTED] with key [REDACTED]", "Redis said: auth failed for [REDACTED]"],
            capture.Entries.Select(e => e.Message));
        Assert.Equal("[REDACTED]", capture.Entries.First().Field("Url"));
        Assert.Equal("[REDACTED]", capture.Entries.First().Field("Key"));
    }

    [Fact]
    public void Redaction_WrapsEveryLoggerProviderTheAppConfigures()
    {
        var app = AnchorAppHost.Build(TestKeys.Settings(), "Development", new LogCapture(), null, out _);

        var providers = app.Services.GetServices<ILoggerProvider>().ToList();

        Assert.Contains(providers, p => p is RedactingLoggerProvider);
        Assert.DoesNotContain(providers, p => p.GetType().Name == "ConsoleLoggerProvider");
    }

    [Theory]
    [InlineData("Development", "simple")]
    [InlineData("Staging", "json")]
    public void Console_UsesJsonOutsideDevelopment(string environment, string formatter)
    {
        var settings = TestKeys.Settings();
        settings["Anchor:Clustering:Provider"] = "Redis";
        settings["Anchor:Storage:Provider"] = "Redis";
        settings["Anchor:Redis:ConnectionString"] = "127.0.0.1:1";
        var app = AnchorAppHost.Build(settings, environment, new LogCapture(), null, out _);

        var options = app.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue;

        Assert.Equal(formatter, options.FormatterName);
    }
}
