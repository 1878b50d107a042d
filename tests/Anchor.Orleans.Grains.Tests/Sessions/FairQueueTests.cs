using Anchor.Orleans.Grains.Sessions;
using Anchor.Orleans.Grains.Sessions.Queueing;

namespace Anchor.Orleans.Grains.Tests.Sessions;

public sealed class FairQueueTests
{
    private static FairQueue<Req> NewQueue(params string[] ids)
    {
        var queue = new FairQueue<Req>(r => r.Id, r => r.Client);
        foreach (var id in ids)
        {
            queue.Enqueue(new Req(id));
        }

        return queue;
    }

    [Fact]
    public void Dequeue_ServesClientsRoundRobin_AndEachClientFirstInFirstOut()
    {
        // Client A bursts three requests before B and C ask once each, then B again.
        var queue = NewQueue("a1", "a2", "a3", "b1", "c1", "b2");

        var served = new List<string>();
        while (queue.Dequeue(_ => true) is { } next)
        {
            served.Add(next.Id);
        }

        Assert.Equal(["a1", "b1", "c1", "a2", "b2", "a3"], served);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void PositionOf_FollowsTheServiceOrder_AndMovesUpAsRequestsAreServed()
    {
        var queue = NewQueue("a1", "a2", "b1", "c1", "b2");

        Assert.Equal(["a1", "b1", "c1", "a2", "b2"], queue.InServiceOrder().Select(r => r.Id));
        Assert.Equal([1, 4, 2, 3, 5], new[] { "a1", "a2", "b1", "c1", "b2" }.Select(queue.PositionOf));

        Assert.Equal("a1", queue.Dequeue(_ => true)!.Id);

        Assert.Equal(["b1", "c1", "a2", "b2"], queue.InServiceOrder().Select(r => r.Id));
        Assert.Equal(0, queue.PositionOf("a1"));
    }

    [Fact]
    public void Dequeue_PassesOverAnIneligibleClient_WhichKeepsItsTurn()
    {
        var queue = NewQueue("a1", "b1", "a2", "c1");

        // A is at its own cap: B is served, and A is still first once it may take a slot again.
        Assert.Equal("b1", queue.Dequeue(r => r.Client != "a")!.Id);
        Assert.Equal("a1", queue.Dequeue(_ => true)!.Id);
        Assert.Equal("c1", queue.Dequeue(_ => true)!.Id);
        Assert.Equal("a2", queue.Dequeue(_ => true)!.Id);
        Assert.Null(queue.Dequeue(_ => true));
    }

    [Fact]
    public void Remove_TakesAWaiterOutOfItsClientsLine_AndAnEmptiedClientLosesItsTurn()
    {
        var queue = NewQueue("a1", "b1", "a2");

        Assert.True(queue.Remove("b1"));
        Assert.False(queue.Remove("b1"));
        queue.Enqueue(new Req("b2"));

        Assert.Equal(["a1", "b2", "a2"], queue.InServiceOrder().Select(r => r.Id));
        Assert.Equal(2, queue.CountOf("a"));
        Assert.Equal(1, queue.CountOf("b"));
        Assert.Throws<InvalidOperationException>(() => queue.Enqueue(new Req("a1")));
    }

    private sealed record Req(string Id)
    {
        public string Client => Id[..1];
    }
}
