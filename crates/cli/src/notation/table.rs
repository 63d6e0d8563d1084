//! Go `text/tabwriter` output as notation configures it (`minwidth 0, tabwidth 0,
//! padding 3, padchar ' '`): every cell, the last one included, is padded to its column's
//! widest cell plus three spaces.

/// Renders `rows` (the header first); every row has the same number of cells.
pub fn render(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
                + 3
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        for (cell, width) in row.iter().zip(&widths) {
            out.push_str(cell);
            out.extend(std::iter::repeat_n(' ', width - cell.chars().count()));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_every_cell() {
        let rows = vec![
            vec!["NAME".to_owned(), "ID".to_owned()],
            vec!["* k".to_owned(), String::new()],
        ];
        assert_eq!(render(&rows), "NAME   ID   \n* k         \n");
    }
}
