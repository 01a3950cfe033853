using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Memory;

namespace Actors.HwBackend.Enlightenments;

/// <summary>
/// Carries out a hypercall the guest made through the hypercall page (TLFS, "Hypercall Interface"):
/// reads the input value and parameters from the registers of the calling convention in force
/// (<see cref="HypercallConvention"/>), checks them, runs the call and writes the result. Whatever
/// the guest passes, the answer is a TLFS status in the result register, never an exception. The
/// caller has already checked that the guest may call (CPL 0) and moved RIP past the call's instruction.
/// Runs on the vCPU thread and does not allocate. With no <paramref name="target"/> nothing is
/// connected, and every message or event is for an unknown connection.
/// </summary>
public sealed class HypercallDispatcher(GuestPhysicalMap memory, IHypercallTarget? target, int processorCount = 1)
{
    public const ushort PostMessage = 0x5C;
    public const ushort SignalEvent = 0x5D;

    /// <summary>HvPostMessage's input block: connection id, reserved, message type, payload size, 240 bytes of payload.</summary>
    public const int PostMessageInputBytes = 256;
    public const int MaxMessagePayloadBytes = 240;

    // Counts by VP, call (the two implemented, then the rest) and status (every HV_STATUS we return is
    // below 32). Each VP's counts are written by its own thread only, so they need no atomic increments.
    private const int CountedStatuses = 32;
    private const int CountsPerProcessor = 3 * CountedStatuses;
    private static readonly string[] CallNames = ["HvPostMessage", "HvSignalEvent", "other"];
    private readonly long[] _counts = new long[Math.Max(1, processorCount) * CountsPerProcessor];

    /// <param name="vp">The calling VP, whose thread this is.</param>
    public void Dispatch(IVirtualProcessor processor, int vp = 0)
    {
        GeneralRegisters registers = processor.GetGeneralRegisters();
        bool is64BitCode = HypercallConvention.Is64BitCode(processor.GetSystemRegisters());
        (ulong input, ulong inputParameter, ulong outputParameter) = HypercallConvention.Arguments(registers.Gprs, is64BitCode);
        HypercallConvention.SetResult(registers.Gprs, is64BitCode, Call(new HypercallInput(input), inputParameter, outputParameter, vp));
        processor.SetGeneralRegisters(registers);
    }

    /// <summary>The result value of one call; see <see cref="HypercallInput.Result"/>.</summary>
    /// <param name="vp">The calling VP, whose thread this is.</param>
    public ulong Call(HypercallInput input, ulong inputParameter, ulong outputParameter, int vp = 0)
    {
        HvStatus status = input.HasReservedBits || input.Nested ? HvStatus.InvalidHypercallInput : input.CallCode switch
        {
            PostMessage => CallPostMessage(input, inputParameter),
            SignalEvent => CallSignalEvent(input, inputParameter),
            _ => HvStatus.InvalidHypercallCode,
        };
        int call = input.CallCode switch { PostMessage => 0, SignalEvent => 1, _ => 2 };
        int first = (uint)vp < (uint)(_counts.Length / CountsPerProcessor) ? vp * CountsPerProcessor : 0;
        ref long count = ref _counts[first + (call * CountedStatuses) + Math.Min((int)status, CountedStatuses - 1)];
        Volatile.Write(ref count, count + 1);
        return HypercallInput.Result(status);
    }

    /// <summary>Calls made so far, by call ("HvPostMessage", "HvSignalEvent" or "other") and status; only pairs that occurred.</summary>
    public IEnumerable<(string Call, HvStatus Status, long Count)> Counts()
    {
        for (int i = 0; i < CountsPerProcessor; i++)
        {
            long count = 0;
            for (int at = i; at < _counts.Length; at += CountsPerProcessor)
                count += Volatile.Read(ref _counts[at]);
            if (count != 0)
                yield return (CallNames[i / CountedStatuses], (HvStatus)(i % CountedStatuses), count);
        }
    }

    // The input block is read whole into the buffer: zeroing it first would only cost time.
    [System.Runtime.CompilerServices.SkipLocalsInit]
    private HvStatus CallPostMessage(HypercallInput input, ulong gpa)
    {
        // A simple (not rep) call with no variable header, and memory-based only.
        if (input.RepCount != 0 || input.RepStartIndex != 0 || input.VariableHeaderQwords != 0 || input.Fast)
            return HvStatus.InvalidHypercallInput;
        if (CheckInputBlock(gpa, PostMessageInputBytes) is { } problem)
            return problem;
        Span<byte> block = stackalloc byte[PostMessageInputBytes];
        memory.Read(gpa, block);
        uint connection = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(block);
        uint messageType = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(block[8..]);
        uint payloadSize = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(block[12..]);
        // Connection ids are 24 bits; bit 31 of the message type marks hypervisor messages the guest may not send.
        if ((connection & 0xFF00_0000) != 0 || System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(block[4..]) != 0)
            return HvStatus.InvalidParameter;
        if (payloadSize > MaxMessagePayloadBytes || messageType == 0 || (messageType & 0x8000_0000) != 0)
            return HvStatus.InvalidParameter;
        return target?.PostMessage(connection, messageType, block.Slice(16, (int)payloadSize)) ?? HvStatus.InvalidConnectionId;
    }

    private HvStatus CallSignalEvent(HypercallInput input, ulong parameter)
    {
        if (input.RepCount != 0 || input.RepStartIndex != 0 || input.VariableHeaderQwords != 0)
            return HvStatus.InvalidHypercallInput;
        ulong value;
        if (input.Fast)
        {
            value = parameter;
        }
        else
        {
            if (CheckInputBlock(parameter, sizeof(ulong)) is { } problem)
                return problem;
            value = memory.ReadValue<ulong>(parameter);
        }
        uint connection = (uint)value;
        ushort flag = (ushort)(value >> 32);
        if ((connection & 0xFF00_0000) != 0 || (value >> 48) != 0)
            return HvStatus.InvalidParameter;
        return target?.SignalEvent(connection, flag) ?? HvStatus.InvalidConnectionId;
    }

    /// <summary>An input block must be 8-byte aligned, within one page, and in the partition's RAM.</summary>
    private HvStatus? CheckInputBlock(ulong gpa, int length)
    {
        if ((gpa & 7) != 0 || (gpa & (GuestRam.PageSize - 1)) + (ulong)length > GuestRam.PageSize)
            return HvStatus.InvalidAlignment;
        if (!memory.IsRam(gpa, (ulong)length))
            return HvStatus.InvalidParameter;
        return null;
    }
}
