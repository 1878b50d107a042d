using System.Diagnostics.Metrics;
using Anchor.Orleans.Grains.Alerts.Rules;
using Anchor.Orleans.Grains.Interfaces.Errors;
using Anchor.Orleans.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;

namespace Anchor.Orleans.Grains.Browser;

/// <summary>
/// A Polly circuit breaker around launching the browser and opening contexts. After repeated failures it opens
/// and sessions are refused at once with <c>browser_error</c> instead of each waiting on a doomed launch; after
/// the break it lets one attempt through (half-open) and closes again on success.
/// </summary>
public sealed partial class BrowserCircuit
{
    public const string Component = "browser";

    private readonly ResiliencePipeline _pipeline;
    private readonly CircuitBreakerStateProvider _state = new();
    private readonly TimeSpan _breakDuration = TimeSpan.FromSeconds(30);

    public BrowserCircuit(TimeProvider time, IMeterFactory meters, AlertRules rules, ILogger<BrowserCircuit> logger)
    {
        // The circuit-open alert (and its resolve) follows the breaker's state.
        StateChanged += state => rules.RecordCircuit(Component, state.ToString());
        meters.Create(AnchorMetrics.MeterName).CreateObservableGauge(
            "anchor.circuit.state",
            () => new Measurement<int>(StateValue, new KeyValuePair<string, object?>("component", Component)),
            description: "Circuit breaker state: 0 closed, 1 half-open, 2 open.");
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                // Failures of our own making (a bad URL, a refused session) are not the browser's fault.
                ShouldHandle = new PredicateBuilder().Handle<AnchorException>(ex => ex.Code == ErrorCodes.BrowserError),
                FailureRatio = 0.5,
                MinimumThroughput = 3,
                SamplingDuration = TimeSpan.FromSeconds(60),
                BreakDuration = _breakDuration,
                StateProvider = _state,
                OnOpened = args =>
                {
                    LogOpened(logger, args.BreakDuration.TotalSeconds);
                    StateChanged?.Invoke(CircuitState.Open);
                    return ValueTask.CompletedTask;
                },
                OnHalfOpened = _ =>
                {
                    StateChanged?.Invoke(CircuitState.HalfOpen);
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    LogClosed(logger);
                    StateChanged?.Invoke(CircuitState.Closed);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    /// <summary>Raised when the circuit opens, half-opens or closes (alerts and metrics listen).</summary>
    public event Action<CircuitState>? StateChanged;

    public CircuitState State => _state.CircuitState;

    /// <summary>0 closed, 1 half-open, 2 open: the value of <c>anchor_circuit_state{component="browser"}</c>.</summary>
    public int StateValue => State switch
    {
        CircuitState.Closed => 0,
        CircuitState.HalfOpen => 1,
        _ => 2,
    };

    public async Task<T> ExecuteAsync<T>(Func<CancellationToken, ValueTask<T>> action, CancellationToken cancellationToken)
    {
        try
        {
            return await _pipeline.ExecuteAsync(action, cancellationToken);
        }
        catch (BrokenCircuitException ex)
        {
            var retry = ex.RetryAfter ?? _breakDuration;
            throw new AnchorException(
                ErrorCodes.BrowserError,
                $"the browser is failing repeatedly and its circuit is open; retry after {Math.Ceiling(retry.TotalSeconds)} s.",
                retry);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Browser circuit opened for {Seconds} s after repeated failures")]
    private static partial void LogOpened(ILogger logger, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Browser circuit closed: the browser works again")]
    private static partial void LogClosed(ILogger logger);
}
