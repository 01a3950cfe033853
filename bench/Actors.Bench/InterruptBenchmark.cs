using System.Diagnostics;
using System.Globalization;
using Actors.HwBackend;
using Actors.HwBackend.Devices;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Hosting;

namespace Actors.Bench;

/// <summary>
/// <c>interrupts</c>: how long a device interrupt takes to reach the guest's handler, and how
/// steady a periodic local APIC timer is. Every time is guest time on the machine's clock, which
/// the guest's RDTSC reads directly (1 GHz TSC, offset 0), so no host/guest clock conversion
/// enters the numbers.
/// <list type="bullet">
/// <item>UART latency: the host queues a byte at time t0; COM1 raises IRQ 4, the IOAPIC sends vector
/// 0x40 to the local APIC, the vCPU takes it; the handler's first instruction is RDTSC = t1.
/// Measured with the vCPU halted in <c>sti; hlt</c> (it must be woken) and spinning with interrupts on.</item>
/// <item>Timer: the APIC timer in periodic mode; each tick's lateness is its handler's RDTSC minus
/// its ideal time (start + k × period); drift is how far the last tick of one second is from ideal.</item>
/// </list>
/// </summary>
internal static class InterruptBenchmark
{
    public static int Run(InterruptBenchmarkOptions options)
    {
        Console.WriteLine($"interrupts: {options.Samples} UART interrupts per case, APIC timer at {options.TimerHz} Hz for {options.Seconds} s of guest time");
        var halted = MeasureUartLatency(halted: true, options.Samples);
        Report("uart-irq-latency (vCPU halted)", halted);
        var busy = MeasureUartLatency(halted: false, options.Samples);
        Report("uart-irq-latency (vCPU running)", busy);
        MeasureTimer(options.TimerHz, options.Seconds);
        return 0;
    }

    private static List<long> MeasureUartLatency(bool halted, int samples)
    {
        var probe = new TimestampProbe();
        var ended = new ManualResetEventSlim();
        using var host = VirtualMachineHost.Create(new EmulatorBackend(), "irq-latency", InterruptBenchGuests.UartLatency(halted), 64UL << 20, 1, console: null, _ => ended.Set());
        host.Ports.Register(InterruptBenchGuests.ReadyPort, 12, probe, "bench-probe");
        host.Start();
        if (!probe.Ready.Wait(TimeSpan.FromSeconds(10)))
            throw new InvalidOperationException("the latency guest did not get ready within 10 s");
        var latencies = new List<long>(samples);
        byte[] input = [(byte)'x'];
        for (int i = 0; i < samples && !ended.IsSet; i++)
        {
            long before = probe.Count;
            long t0 = host.GuestTimeNanoseconds;
            host.SendConsoleInput(input);
            var wait = Stopwatch.StartNew();
            while (probe.Count == before)
            {
                if (wait.Elapsed > TimeSpan.FromSeconds(5))
                    throw new TimeoutException($"interrupt {i} did not reach the guest within 5 s");
                Thread.SpinWait(20);
            }
            latencies.Add(probe.LastTimestamp - t0);
            // Let the guest go back to waiting before the next one.
            Thread.Sleep(1);
        }
        host.Stop();
        return latencies;
    }

    private static void MeasureTimer(int hz, int seconds)
    {
        int ticks = hz * seconds + 1;
        var ended = new ManualResetEventSlim();
        using var host = VirtualMachineHost.Create(new EmulatorBackend(), "apic-timer", InterruptBenchGuests.PeriodicTimer(hz, ticks), 64UL << 20, 1, console: null, _ => ended.Set());
        host.Start();
        if (!ended.Wait(TimeSpan.FromSeconds(seconds * 10 + 10)))
            throw new TimeoutException("the timer guest did not finish");
        var memory = host.Machine.Memory;
        long start = (long)memory.ReadValue<ulong>(InterruptBenchGuests.DataBase + 8);
        long logged = (long)memory.ReadValue<ulong>(InterruptBenchGuests.DataBase);
        long period = 1_000_000_000L / hz;
        var lateness = new List<long>((int)logged);
        var times = new long[logged];
        for (int k = 0; k < logged; k++)
        {
            times[k] = (long)memory.ReadValue<ulong>(InterruptBenchGuests.TickLog + (ulong)k * 8);
            lateness.Add(times[k] - (start + (k + 1) * period));
        }
        Report($"apic-timer-lateness ({hz} Hz)", lateness);
        long last = hz * seconds - 1;
        long interval = times[last] - times[0];
        long ideal = last * period;
        double driftUs = (interval - ideal) / 1000.0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"apic-timer-drift ({hz} Hz): ticks={logged} over 1 s: first-to-last {interval} ns vs ideal {ideal} ns: drift {driftUs:F1} us ({(interval - ideal) * 1e6 / ideal:F1} ppm)"));
    }

    private static void Report(string name, List<long> nanoseconds)
    {
        if (nanoseconds.Count == 0)
        {
            Console.WriteLine($"{name}: no samples");
            return;
        }
        nanoseconds.Sort();
        double P(double q) => nanoseconds[Math.Min(nanoseconds.Count - 1, (int)(q * nanoseconds.Count))] / 1000.0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: median {P(0.5):F1} us, p90 {P(0.9):F1} us, p99 {P(0.99):F1} us, min {nanoseconds[0] / 1000.0:F1} us, max {nanoseconds[^1] / 1000.0:F1} us (n={nanoseconds.Count})"));
    }

    /// <summary>The guest's report ports: 0x500 "ready", 0x504/0x508 the low and high halves of a TSC value.</summary>
    private sealed class TimestampProbe : IPortDevice
    {
        private uint _low;
        private long _count;
        private long _last;

        public ManualResetEventSlim Ready { get; } = new();

        public long Count => Volatile.Read(ref _count);

        public long LastTimestamp => Volatile.Read(ref _last);

        public uint Read(ushort port, int size) => 0xFFFF_FFFF;

        public void Write(ushort port, int size, uint value)
        {
            switch (port)
            {
                case InterruptBenchGuests.ReadyPort:
                    Ready.Set();
                    break;
                case InterruptBenchGuests.TimestampLowPort:
                    _low = value;
                    break;
                case InterruptBenchGuests.TimestampHighPort:
                    Volatile.Write(ref _last, (long)(((ulong)value << 32) | _low));
                    Interlocked.Increment(ref _count);
                    break;
            }
        }
    }
}
