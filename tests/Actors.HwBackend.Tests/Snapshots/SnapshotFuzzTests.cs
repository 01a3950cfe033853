using System.Buffers.Binary;
using System.Diagnostics;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Tests.Worker;
using Actors.HwBackend.Worker;
using Xunit;

namespace Actors.HwBackend.Tests.Snapshots;

/// <summary>
/// A snapshot arrives from another host: whatever its bytes, a restore either takes it or refuses
/// it with a <see cref="Actors.HwBackend.Snapshots.SnapshotException"/>, never another exception.
/// </summary>
public sealed class SnapshotFuzzTests
{
    private const ulong Memory = 4UL << 20; // small: every snapshot the restore takes costs a fresh machine
    private const int Processors = 2;

    [Fact]
    public void DamagedSnapshotsAreRefusedWithASnapshotExceptionAndNothingElse()
    {
        byte[] snapshot = SnapshotOfARunningGuest();
        var random = new Random(20_26);
        VmWorker target = NewTarget();
        byte[] pristine = target.SaveSnapshot();
        int refused = 0;
        try
        {
            for (int i = 0; i < 4000; i++)
            {
                (byte[] damaged, string how, bool mayBeTaken) = (i % 4) switch
                {
                    // Cut anywhere: always refused, as truncated or too short.
                    0 => Truncated(snapshot, random),
                    // Flipped bits under the original integrity check: always refused.
                    1 => Flipped(snapshot, random, reseal: false),
                    // Flipped bits resealed, so they reach the framing and every section's reader;
                    // a flip in a register's value makes a snapshot that is still valid.
                    2 => Flipped(snapshot, random, reseal: true),
                    // Cut, with the header's length and the check made to match: the framing and
                    // the sections' readers meet a short snapshot.
                    _ => CutAndResealed(snapshot, random),
                };
                try
                {
                    target.RestoreSnapshot(damaged);
                }
                catch (Actors.HwBackend.Snapshots.SnapshotException e)
                {
                    Assert.False(string.IsNullOrWhiteSpace(e.Message));
                    Assert.DoesNotContain('\n', e.Message);
                    refused++;
                    continue;
                }
                catch (Exception e)
                {
                    Assert.Fail($"case {i} ({how}) threw {e.GetType().Name} instead of a refusal: {e.Message}");
                }
                Assert.True(mayBeTaken, $"case {i} ({how}) was taken");
                // Taken: the target is that machine now, so the next case needs a fresh one.
                target.Dispose();
                target = NewTarget();
                pristine = target.SaveSnapshot();
            }

            // Thousands of refusals changed nothing in the machine they were made to.
            Assert.Equal(pristine, target.SaveSnapshot());
            Assert.True(refused > 3000, $"only {refused} of 4000 refused");
        }
        finally
        {
            target.Dispose();
        }
    }

    private static (byte[], string, bool) Truncated(byte[] snapshot, Random random)
    {
        int length = random.Next(snapshot.Length);
        return (snapshot[..length], $"truncated to {length}", false);
    }

    private static (byte[], string, bool) Flipped(byte[] snapshot, Random random, bool reseal)
    {
        byte[] damaged = (byte[])snapshot.Clone();
        int bits = random.Next(1, 5);
        var flipped = new SortedSet<int>();
        while (flipped.Count < bits)
        {
            // Resealed flips stay off the check itself, which the reseal would overwrite.
            int bit = random.Next((damaged.Length - (reseal ? 4 : 0)) * 8);
            if (flipped.Add(bit))
                damaged[bit / 8] ^= (byte)(1 << (bit % 8));
        }
        if (reseal)
            SnapshotSurgery.Reseal(damaged);
        return (damaged, $"bits {string.Join(',', flipped)} flipped{(reseal ? ", resealed" : "")}", reseal);
    }

    private static (byte[], string, bool) CutAndResealed(byte[] snapshot, Random random)
    {
        int length = random.Next(16, snapshot.Length);
        byte[] damaged = snapshot[..length];
        BinaryPrimitives.WriteUInt32LittleEndian(damaged.AsSpan(8), (uint)length);
        SnapshotSurgery.Reseal(damaged);
        return (damaged, $"cut to {length}, resealed", false);
    }

    private static VmWorker NewTarget() =>
        VmWorker.CreateForRestore(new EmulatorBackend(), "fuzz", Memory, Processors, console: null, onEnded: _ => { });

    /// <summary>A guest that counted for a while, paused with console input waiting, as a migration source is.</summary>
    private static byte[] SnapshotOfARunningGuest()
    {
        using var source = VmWorker.Create(new EmulatorBackend(), "fuzz-source", HostGuests.EndlessLoop(), Memory, Processors, console: null, onEnded: _ => { });
        source.Start();
        var clock = Stopwatch.StartNew();
        while (source.InstructionsRetired < 100_000)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), "the guest did not run");
            Thread.Sleep(1); // polling interval, not synchronisation: the count decides
        }
        source.Pause();
        source.SendConsoleInput("typed ahead"u8);
        return source.SaveSnapshot();
    }
}
