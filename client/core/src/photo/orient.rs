//! EXIF orientation applied to a small interleaved 8-bit image.

/// Turns `pixels` (`width` x `height`, `channels` bytes a pixel, rows top to bottom) upright
/// for EXIF orientation `orientation`; returns the new pixels, width and height. Orientations
/// outside 1..=8 are treated as 1.
pub(crate) fn apply(
    pixels: Vec<u8>,
    width: usize,
    height: usize,
    channels: usize,
    orientation: u8,
) -> (Vec<u8>, usize, usize) {
    if !(2..=8).contains(&orientation) || pixels.len() != width * height * channels {
        return (pixels, width, height);
    }
    let (w, h) = (width, height);
    let (out_w, out_h) = if orientation >= 5 { (h, w) } else { (w, h) };
    // Source pixel of output pixel (x, y).
    let source = |x: usize, y: usize| -> (usize, usize) {
        match orientation {
            2 => (w - 1 - x, y),         // mirrored horizontally
            3 => (w - 1 - x, h - 1 - y), // rotated 180°
            4 => (x, h - 1 - y),         // mirrored vertically
            5 => (y, x),                 // transposed
            6 => (y, h - 1 - x),         // rotated 90° clockwise
            7 => (w - 1 - y, h - 1 - x), // transversed
            _ => (w - 1 - y, x),         // 8: rotated 90° counter-clockwise
        }
    };
    let mut out = vec![0; pixels.len()];
    for y in 0..out_h {
        let row = &mut out[y * out_w * channels..(y + 1) * out_w * channels];
        for (x, px) in row.chunks_exact_mut(channels).enumerate() {
            let (sx, sy) = source(x, y);
            let at = (sy * w + sx) * channels;
            px.copy_from_slice(&pixels[at..at + channels]);
        }
    }
    (out, out_w, out_h)
}

#[cfg(test)]
mod tests {
    use super::apply;

    /// A 3x2 image whose pixels are their own index.
    fn img() -> Vec<u8> {
        (0..6).collect()
    }

    #[test]
    fn all_orientations() {
        // Stored image:  0 1 2
        //                3 4 5
        let cases: [(u8, &[u8], usize); 8] = [
            (1, &[0, 1, 2, 3, 4, 5], 3),
            (2, &[2, 1, 0, 5, 4, 3], 3),
            (3, &[5, 4, 3, 2, 1, 0], 3),
            (4, &[3, 4, 5, 0, 1, 2], 3),
            (5, &[0, 3, 1, 4, 2, 5], 2),
            (6, &[3, 0, 4, 1, 5, 2], 2),
            (7, &[5, 2, 4, 1, 3, 0], 2),
            (8, &[2, 5, 1, 4, 0, 3], 2),
        ];
        for (o, want, want_w) in cases {
            let (px, w, _) = apply(img(), 3, 2, 1, o);
            assert_eq!((px.as_slice(), w), (want, want_w), "orientation {o}");
        }
    }
}
