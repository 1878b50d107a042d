namespace Anchor.Orleans.Grains.Sessions.Queueing;

/// <summary>
/// Requests waiting for a session slot, served round-robin across clients and first-in-first-out within a client,
/// so one client's burst cannot starve another. Pure bookkeeping: the registry decides when a slot is free and
/// which waiters may take one (<see cref="Dequeue"/>'s eligibility test, e.g. the client's own cap).
/// </summary>
public sealed class FairQueue<T>(Func<T, string> idOf, Func<T, string> clientOf)
    where T : class
{
    private readonly Dictionary<string, LinkedListNode<T>> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ClientLine> _clients = new(StringComparer.Ordinal);

    // Clients with waiters, the one whose turn comes next first; a served client goes to the back.
    private readonly LinkedList<string> _turns = new();

    public int Count => _byId.Count;

    public T? Find(string id) => _byId.TryGetValue(id, out var node) ? node.Value : null;

    /// <summary>How many of <paramref name="clientId"/>'s requests wait.</summary>
    public int CountOf(string clientId) => _clients.TryGetValue(clientId, out var line) ? line.Waiting.Count : 0;

    /// <summary>Adds a request behind its client's earlier ones; a client new to the queue takes its turn last.</summary>
    public void Enqueue(T item)
    {
        var id = idOf(item);
        if (_byId.ContainsKey(id))
        {
            throw new InvalidOperationException($"'{id}' is already queued.");
        }

        var client = clientOf(item);
        if (!_clients.TryGetValue(client, out var line))
        {
            line = new ClientLine(_turns.AddLast(client));
            _clients[client] = line;
        }

        _byId[id] = line.Waiting.AddLast(item);
    }

    public bool Remove(string id)
    {
        if (!_byId.Remove(id, out var node))
        {
            return false;
        }

        var client = clientOf(node.Value);
        var line = _clients[client];
        line.Waiting.Remove(node);
        if (line.Waiting.Count == 0)
        {
            _turns.Remove(line.Turn);
            _clients.Remove(client);
        }

        return true;
    }

    /// <summary>
    /// Takes the first request of the first client, in turn order, whose first request is
    /// <paramref name="eligible"/>; that client's turn moves to the back. Clients passed over keep their turn.
    /// </summary>
    public T? Dequeue(Func<T, bool> eligible)
    {
        for (var turn = _turns.First; turn is not null; turn = turn.Next)
        {
            var line = _clients[turn.Value];
            var head = line.Waiting.First!.Value;
            if (!eligible(head))
            {
                continue;
            }

            Remove(idOf(head));
            if (_clients.TryGetValue(turn.Value, out var rest))
            {
                _turns.Remove(rest.Turn);
                _turns.AddLast(rest.Turn);
            }

            return head;
        }

        return default;
    }

    /// <summary>The order requests would be served in if every one were eligible: one per client per round.</summary>
    public IReadOnlyList<T> InServiceOrder()
    {
        var lines = _turns.Select(c => _clients[c].Waiting.First).ToArray();
        var order = new List<T>(_byId.Count);
        while (order.Count < _byId.Count)
        {
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i] is { } node)
                {
                    order.Add(node.Value);
                    lines[i] = node.Next;
                }
            }
        }

        return order;
    }

    /// <summary>1-based place of <paramref name="id"/> in <see cref="InServiceOrder"/>; 0 when it is not queued.</summary>
    public int PositionOf(string id)
    {
        if (!_byId.ContainsKey(id))
        {
            return 0;
        }

        var order = InServiceOrder();
        for (var i = 0; i < order.Count; i++)
        {
            if (idOf(order[i]) == id)
            {
                return i + 1;
            }
        }

        return 0;
    }

    private sealed class ClientLine(LinkedListNode<string> turn)
    {
        public LinkedListNode<string> Turn { get; } = turn;

        public LinkedList<T> Waiting { get; } = new();
    }
}
