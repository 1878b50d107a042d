using Orleans.Concurrency;

namespace Anchor.Orleans.Grains.Interfaces.Sessions;

/// <summary>
/// Where a session reports how a running action goes (each step of a <c>browser_run_task</c> as it finishes): an
/// object on the silo whose front received the call, reached from the session's silo wherever that is. One-way: the
/// action never waits for its listener.
/// </summary>
public interface IActionProgress : IGrainObserver
{
    [OneWay]
    Task StepDoneAsync(TaskStepDone step);
}

/// <summary>Step <see cref="Number"/> of <see cref="Total"/> finished (ok or not) after <see cref="Result"/>'s milliseconds.</summary>
[GenerateSerializer, Immutable, Alias("anchor.TaskStepDone")]
public sealed record TaskStepDone(
    [property: Id(0)] int Number,
    [property: Id(1)] int Total,
    [property: Id(2)] TaskStepResult Result);
