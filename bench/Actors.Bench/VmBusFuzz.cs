using System.Diagnostics;
using System.Globalization;
using Actors.HwBackend.Enlightenments;
using Actors.HwBackend.Memory;

namespace Actors.Bench;

/// <summary>
/// <c>vmbus-fuzz</c>: the guest-facing parsers of an enlightened partition fed hostile input for
/// as long as asked, far longer than the test suite's seeded 100,000 calls. The calls go through
/// the real stack: the dispatcher reads them from guest memory, the VMBus engine answers into two
/// VPs' SynICs, and the heartbeat service reads the channel ring the guest writes (see
/// <see cref="HostileGuest"/>), while another VP rewrites that ring (<see cref="RingRewriter"/>).
/// After every call: no exception escaped, the result is a TLFS status, the SynICs hold bounded
/// messages, and now and then, the bus's state is one a snapshot could restore.
/// </summary>
internal static class VmBusFuzz
{
    public static int Run(VmBusFuzzOptions options)
    {
        int seed = options.Seed ?? Random.Shared.Next();
        Console.WriteLine($"vmbus-fuzz: seed {seed}, {options.Seconds} s: hypercalls through the dispatcher, the VMBus engine, two VPs' SynICs and the heartbeat's rings, another VP rewriting them meanwhile");
        using var guest = new HostileGuest(seed);
        using var otherVp = new RingRewriter(guest.Memory, seed);
        var statuses = new Dictionary<HvStatus, long>();
        long calls = 0, opens = 0, negotiations = 0, callsOpen = 0;
        bool wasOpen = false, wasNegotiated = false;
        var clock = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(options.Seconds);
        try
        {
            while ((calls & 1023) != 0 || clock.Elapsed < deadline)
            {
                ulong result = guest.Step(calls);
                calls++;
                var status = (HvStatus)(ushort)result;
                if ((result >> 16) != 0 || !Enum.IsDefined(status))
                    return Fail(seed, calls, $"result 0x{result:x} is not a TLFS status of a simple call");
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
                if (guest.WaitingMessages > HostileGuest.Processors * SyntheticInterruptController.SintCount * SyntheticInterruptController.MaxWaitingPerSint)
                    return Fail(seed, calls, "the SynICs hold more waiting messages than their bound");
                // Coverage: how often the calls got the heartbeat channel opened and its versions agreed.
                bool open = guest.Heartbeat.Open, negotiated = guest.Heartbeat.Negotiated;
                opens += open && !wasOpen ? 1 : 0;
                negotiations += negotiated && !wasNegotiated ? 1 : 0;
                callsOpen += open ? 1 : 0;
                (wasOpen, wasNegotiated) = (open, negotiated);
                if ((calls & 63) == 0 && guest.Bus.FindRestoreProblem(guest.Bus.State) is { } problem)
                    return Fail(seed, calls, $"the bus's own state would not restore: {problem}");
            }
        }
        catch (Exception e)
        {
            return Fail(seed, calls, $"{e.GetType().Name} escaped: {e.Message}\n{e.StackTrace}");
        }

        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"vmbus-fuzz: {calls} hypercalls in {seconds:F1} s ({calls / seconds:F0} per second), no exception escaped; statuses: {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key} {s.Value}"))}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"vmbus-fuzz: {guest.Posted} messages answered into the SynICs, {guest.Bus.Dropped} guest messages dropped, {guest.Interrupts} SINT interrupts; the heartbeat channel opened {opens} times, open during {100.0 * callsOpen / calls:F0}% of the calls, versions agreed {negotiations} times, heartbeats answered {guest.HeartbeatsAnswered}"));
        return 0;
    }

    private static int Fail(int seed, long calls, string what)
    {
        Console.WriteLine($"vmbus-fuzz: FAILED at call {calls} of seed {seed} (replay with --seed {seed}; another VP's writes do not replay): {what}");
        return 1;
    }

    /// <summary>
    /// The guest's other VP, rewriting the rings' headers and first packet descriptors while the
    /// host reads them, on a thread of its own: what the host reads twice may differ between the
    /// reads, and it must still answer with a status. Its timing is the scheduler's, so a seed
    /// replays the calls but not where this thread's writes land among them.
    /// </summary>
    private sealed class RingRewriter : IDisposable
    {
        private readonly Thread _thread;
        private volatile bool _stop;

        public RingRewriter(GuestPhysicalMap memory, int seed)
        {
            _thread = new Thread(() =>
            {
                var random = new Random(seed ^ 0x5EED);
                while (!_stop)
                {
                    // Mostly the ring the host reads packets from; the host's own ring only now and then,
                    // since a rewritten index there breaks it for good and ends the channel's traffic.
                    ulong ring = random.Next(64) != 0 ? HostileGuest.InboundRing : HostileGuest.OutboundRing;
                    ulong page = random.Next(2) == 0 ? ring : ring + GuestRam.PageSize; // header or first data page
                    memory.WriteValue(page + (ulong)(random.Next(8) * 2), (ushort)random.Next(0x1_0000));
                }
            })
            { IsBackground = true, Name = "vmbus-fuzz other VP" };
            _thread.Start();
        }

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
        }
    }
}
