using Actors.Grains;
using Microsoft.Extensions.Logging;
using Orleans.Streams;

namespace Actors.Silo.Dashboard;

/// <summary>
/// Follows the serial consoles of the VMs the dashboard shows, through the same console streams <c>hvctl vm
/// console</c> reads, so that each row can show its VM's last lines. A stream is addressed by VM name, not by
/// where the VM runs, so a subscription survives the VM's migrations.
/// </summary>
internal sealed class ConsoleTails(IClusterClient cluster, ILogger logger)
{
    private readonly Dictionary<string, Followed> _followed = new(StringComparer.Ordinal);

    /// <summary>The last lines of <paramref name="vm"/>'s console that arrived since it was first followed.</summary>
    public string Of(string vm) => _followed.TryGetValue(vm, out Followed? followed) ? followed.Tail.ToString() : string.Empty;

    /// <summary>Follows every VM in <paramref name="vms"/> and stops following the others. Called by one caller at a time.</summary>
    public async Task FollowAsync(IEnumerable<string> vms)
    {
        var wanted = new HashSet<string>(vms, StringComparer.Ordinal);
        foreach (string gone in _followed.Keys.Where(vm => !wanted.Contains(vm)).ToList())
        {
            Followed followed = _followed[gone];
            _followed.Remove(gone);
            await UnsubscribeAsync(gone, followed).ConfigureAwait(false);
        }

        foreach (string vm in wanted.Where(vm => !_followed.ContainsKey(vm)))
        {
            var tail = new ConsoleTail();
            IAsyncStream<ConsoleOutput> stream = cluster.GetStreamProvider(ConsoleStreams.Provider)
                .GetStream<ConsoleOutput>(StreamId.Create(ConsoleStreams.Namespace, vm));
            StreamSubscriptionHandle<ConsoleOutput> handle = await stream.SubscribeAsync((batch, _) =>
            {
                tail.Append(batch.Sequence, batch.Data);
                return Task.CompletedTask;
            }).ConfigureAwait(false);
            _followed[vm] = new Followed(tail, handle);
        }
    }

    /// <summary>Stops following every console.</summary>
    public async Task StopAsync()
    {
        foreach ((string vm, Followed followed) in _followed.ToList())
            await UnsubscribeAsync(vm, followed).ConfigureAwait(false);
        _followed.Clear();
    }

    private async Task UnsubscribeAsync(string vm, Followed followed)
    {
        try
        {
            await followed.Handle.UnsubscribeAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The subscription dies with this silo's client anyway; a failed unsubscribe only costs the stream a dead consumer.
            logger.LogDebug(e, "Could not stop following the console of {Vm}", vm);
        }
    }

    private sealed record Followed(ConsoleTail Tail, StreamSubscriptionHandle<ConsoleOutput> Handle);
}
