namespace Actors.Grains.Tests;

/// <summary>
/// A port's far end for switch tests: it keeps every frame a switch delivers, and can be told to hold
/// deliveries (a slow VM) or to fail them (a VM that is gone).
/// </summary>
[Alias("Actors.Tests.IRecordingPortSink")]
public interface IRecordingPortSink : INetworkPortSink, IGrainWithStringKey
{
    /// <summary>The frames delivered so far, as NIC and bytes, in the order they came.</summary>
    [Alias("Frames")]
    Task<IReadOnlyList<(int Nic, byte[] Frame)>> GetFramesAsync();

    /// <summary>How many deliveries arrived, held ones included.</summary>
    [Alias("Deliveries")]
    Task<int> CountDeliveriesAsync();

    /// <summary>From now on deliveries wait until <see cref="ReleaseAsync"/>.</summary>
    [Alias("Hold")]
    Task HoldAsync();

    [Alias("Release")]
    Task ReleaseAsync();

    /// <summary>From now on deliveries throw.</summary>
    [Alias("Fail")]
    Task FailAsync();
}

// Reentrant so that Release and the status questions run while held deliveries wait.
[Orleans.Concurrency.Reentrant]
public sealed class RecordingPortSink : Grain, IRecordingPortSink
{
    private readonly List<(int Nic, byte[] Frame)> _frames = [];
    private TaskCompletionSource? _hold;
    private bool _fail;
    private int _deliveries;

    public async Task DeliverFramesAsync(int nic, FrameBatch frames)
    {
        _deliveries++;
        if (_hold is { } hold)
            await hold.Task;
        if (_fail)
            throw new InvalidOperationException("this VM is gone");
        int offset = 0;
        foreach (int length in frames.Lengths)
        {
            _frames.Add((nic, frames.Data.AsSpan(offset, length).ToArray()));
            offset += length;
        }
    }

    public Task<IReadOnlyList<(int Nic, byte[] Frame)>> GetFramesAsync() => Task.FromResult<IReadOnlyList<(int, byte[])>>([.. _frames]);

    public Task<int> CountDeliveriesAsync() => Task.FromResult(_deliveries);

    public Task HoldAsync()
    {
        _hold = new TaskCompletionSource();
        return Task.CompletedTask;
    }

    public Task ReleaseAsync()
    {
        _hold?.SetResult();
        _hold = null;
        return Task.CompletedTask;
    }

    public Task FailAsync()
    {
        _fail = true;
        return Task.CompletedTask;
    }
}
