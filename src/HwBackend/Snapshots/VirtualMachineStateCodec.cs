using System.Text.Json;

namespace Actors.HwBackend.Snapshots;

/// <summary>
/// A <see cref="VirtualMachineState"/> as bytes, for moving a machine to another process (live
/// migration). Every state type is plain data (public properties, arrays, records), so JSON carries
/// it without per-type code; it is a few kilobytes per vCPU, sent once, during the downtime.
/// </summary>
public static class VirtualMachineStateCodec
{
    private static readonly JsonSerializerOptions Options = new()
    {
        IncludeFields = false,
        RespectRequiredConstructorParameters = true,
    };

    public static byte[] Encode(VirtualMachineState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return JsonSerializer.SerializeToUtf8Bytes(state, Options);
    }

    /// <exception cref="ArgumentException">The bytes are not an encoded machine state.</exception>
    public static VirtualMachineState Decode(byte[] encoded)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        try
        {
            return JsonSerializer.Deserialize<VirtualMachineState>(encoded, Options)
                ?? throw new ArgumentException("the encoded machine state is empty", nameof(encoded));
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"the encoded machine state cannot be read: {e.Message}", nameof(encoded), e);
        }
    }
}
